import { readFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { Admin } from '@herald/client';
import { ServiceProcess } from '@herald/devstack';
import { freePort } from '@herald/local-kafka';
import { benchTopicPrefix } from './bench-environment';
import { type FanoutDeliveries, waitFor } from './fanout-deliveries';
import type { ScenarioContext } from './scenario';
import type { StreamFleet } from './stream-fleet';

/**
 * Starts `count` dispatchers of their own for a fan-out scenario: fresh
 * processes, so that their memory and connections are those of the scenario
 * alone, and with room for `maxStreams` streams each (the default limit,
 * 1,000, would refuse what the scenario asks before any design limit shows).
 * The stack's own dispatchers are stopped first: dispatchers of one prefix
 * share the subscriptions between them, so the stack's would otherwise serve
 * a share of the scenario's (relayed to them, unmetered, at their default
 * stream limit). That is why the fan-out scenarios run last.
 */
export async function startDispatchers(
  context: ScenarioContext,
  label: string,
  count: number,
  maxStreams: number,
): Promise<ServiceProcess[]> {
  const { env } = context;
  await stopAll(env.herald.dispatchers);
  const started = await Promise.allSettled(
    Array.from({ length: count }, async (_, i) =>
      ServiceProcess.start({
        service: 'dispatcher',
        port: await freePort(),
        logFile: path.join(env.logDir, `${label}-${i + 1}.log`),
        env: {
          KAFKA_BROKERS: env.kafkaBrokers.join(','),
          HERALD_TOPIC_PREFIX: benchTopicPrefix,
          HERALD_INSTANCE_ID: `${label}-${i + 1}`,
          REGISTRY_ADDRESSES: env.herald.registries.map((registry) => registry.address).join(','),
          DISPATCHER_MAX_STREAMS: String(maxStreams),
        },
      }),
    ),
  );
  const dispatchers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await stopAll(dispatchers);
    throw failed.reason;
  }
  return dispatchers;
}

/** Stops dispatchers in parallel (SIGTERM, SIGKILL after `graceMillis`); never throws. */
export async function stopAll(dispatchers: readonly ServiceProcess[], graceMillis = 15_000): Promise<void> {
  await Promise.allSettled(dispatchers.map((dispatcher) => dispatcher.stop(graceMillis)));
}

/** What {@link runConcurrently} got done. */
export interface ConcurrentOutcome {
  /** Items whose call succeeded, in no particular order. */
  done: string[];
  /** Items whose call failed. */
  failed: string[];
  /** Why calls failed, with how many. */
  failures: Map<string, number>;
  /** Items not tried because the time ran out. */
  notTried: number;
  seconds: number;
}

/**
 * Calls `call` for each item, `concurrency` at a time, and stops starting new
 * calls after `timeoutMillis` (calls under way finish).
 */
export async function runConcurrently(
  items: readonly string[],
  concurrency: number,
  timeoutMillis: number,
  call: (item: string) => Promise<unknown>,
): Promise<ConcurrentOutcome> {
  const started = Date.now();
  const deadline = started + timeoutMillis;
  const done: string[] = [];
  const failed: string[] = [];
  const failures = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < items.length && Date.now() < deadline) {
      const item = items[next++]!;
      try {
        await call(item);
        done.push(item);
      } catch (error) {
        failed.push(item);
        const why = failureKind(error);
        failures.set(why, (failures.get(why) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return { done, failed, failures, notTried: items.length - next, seconds: (Date.now() - started) / 1000 };
}

/**
 * A failure as one kind among many alike: its gRPC status and its message up
 * to the first detail that differs from call to call (grpc-js appends
 * timings and addresses to DEADLINE_EXCEEDED).
 */
export function failureKind(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const name = typeof code === 'number' ? (status[code] ?? String(code)) : undefined;
  const message = ((error as Error).message ?? String(error)).split(
    / after \d|,remote_addr=|,metadata filters|,LB pick|,name resolution/,
  )[0]!;
  return `${name && !message.startsWith(name) ? `${name}: ` : ''}${message.slice(0, 160)}`;
}

/** `3 × UNAVAILABLE: ...; 1 × ...`: failures, most frequent first. */
export function describeFailures(failures: Map<string, number>): string {
  return [...failures.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([why, count]) => `${count} × ${why}`)
    .join('; ');
}

/**
 * Creates the subscriptions (`startAt` latest: the registry records each
 * partition's end offset at creation, so a message published later reaches a
 * subscription however late its stream attaches), `concurrency` requests in
 * flight, for at most `timeoutMillis`.
 */
export async function createSubscriptions(
  context: ScenarioContext,
  topic: string,
  names: readonly string[],
  concurrency: number,
  timeoutMillis: number,
): Promise<ConcurrentOutcome> {
  const admin = registryAdmin(context);
  try {
    return await runConcurrently(names, concurrency, timeoutMillis, async (name) => {
      try {
        await admin.createSubscription({ name, topic, startAt: 'latest' });
      } catch (error) {
        // A retry after an uncertain failure may find the very subscription it created: that is one created.
        if ((error as { code?: unknown }).code !== status.ALREADY_EXISTS) throw error;
      }
    });
  } finally {
    admin.close();
  }
}

/**
 * Deletes the scenario's subscriptions (give those whose creation failed too:
 * a create that timed out may have happened all the same), many requests at once, on a Kafka
 * that outlives the run; those not deleted in time are left to the
 * environment's stop. On the run's own Kafka nothing is deleted: it goes
 * with its data at the stop, and registry writes are slow enough (one at a
 * time) that deleting thousands would cost as long as creating them.
 */
export async function deleteSubscriptions(
  context: ScenarioContext,
  names: readonly string[],
  concurrency: number,
  timeoutMillis: number,
): Promise<void> {
  if (names.length === 0 || context.env.localKafka) return;
  const admin = registryAdmin(context);
  try {
    const outcome = await runConcurrently(names, concurrency, timeoutMillis, async (name) => {
      try {
        await admin.deleteSubscription(name);
      } catch (error) {
        if ((error as { code?: unknown }).code !== status.NOT_FOUND) throw error;
      }
    });
    const deleted = new Set(outcome.done);
    const left = names.filter((name) => !deleted.has(name));
    for (const name of left) context.env.deleteSubscriptionAtStop(name);
    if (left.length > 0) context.log(`  ${left.length} subscriptions left for the environment's stop to delete`);
  } finally {
    admin.close();
  }
}

function registryAdmin(context: ScenarioContext): Admin {
  return new Admin({
    endpoints: context.env.herald.registries.map((registry) => registry.address),
    retry: { totalTimeoutMillis: 20_000 },
  });
}

/**
 * What attaching may use of the shared machine: past any of these the
 * dispatchers under test are frozen at once (SIGSTOP) and then killed. A
 * Kafka consumer per subscription costs a dispatcher about 4 threads and
 * 600 KB: 10,000 subscriptions would need more threads than the kernel gives
 * the whole machine (`pid_max`, 32,768 by default), and every process on it
 * would fail to start a thread. A dispatcher keeps starting consumers for
 * streams already open after the guard has looked, hence a low share.
 */
export const attachLimits = {
  minAvailableBytes: 4 * 2 ** 30,
  maxRssBytes: 4 * 2 ** 30,
  /** Threads of the whole machine, as a share of the kernel's limit (the lower of pid_max and threads-max). */
  maxThreadShare: 0.25,
};

/** Streams opened at once, and the pause between waves, during which the guard looks. */
export const attachWave = { streams: 500, pauseMillis: 250 };

/**
 * Why an attach must stop now, if it must: the machine is running out of
 * memory or threads, or one of `pids` has grown past its memory limit.
 */
export function attachGuard(pids: readonly number[]): string | undefined {
  const available = availableMemoryBytes();
  if (available < attachLimits.minAvailableBytes) {
    return `the machine had ${(available / 2 ** 30).toFixed(1)} GiB of memory available (limit ${attachLimits.minAvailableBytes / 2 ** 30} GiB)`;
  }
  const threads = machineThreads();
  const limit = threadLimit();
  if (threads > attachLimits.maxThreadShare * limit) {
    return (
      `the machine ran ${threads.toLocaleString('en-US')} threads, over ${attachLimits.maxThreadShare * 100}% of ` +
      `the kernel's ${limit.toLocaleString('en-US')} (dispatchers: ${pids.map(threadsOf).join(', ')})`
    );
  }
  for (const pid of pids) {
    const rss = rssOf(pid);
    if (rss > attachLimits.maxRssBytes) {
      return `dispatcher pid ${pid} reached ${(rss / 2 ** 30).toFixed(1)} GiB resident (limit ${attachLimits.maxRssBytes / 2 ** 30} GiB)`;
    }
  }
  return undefined;
}

/** SIGSTOP to each process (gone ones passed over): they start no more threads nor take more memory. */
export function freeze(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGSTOP');
    } catch {
      // gone
    }
  }
}

/** Resident memory of a process now; 0 when it is gone. */
export function rssOf(pid: number): number {
  try {
    return statusKilobytes(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS') * 1024;
  } catch {
    return 0;
  }
}

function statusKilobytes(status: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
}

/** Threads (kernel tasks) on the whole machine: the total of /proc/loadavg's `running/total` field. */
export function machineThreads(loadavg = readFileSync('/proc/loadavg', 'utf8')): number {
  return Number(/\s\d+\/(\d+)\s/.exec(loadavg)?.[1] ?? 0);
}

/** The kernel's limit on threads: the lower of pid_max and threads-max. */
export function threadLimit(): number {
  const read = (file: string) => {
    try {
      return Number(readFileSync(file, 'utf8').trim()) || Number.POSITIVE_INFINITY;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  };
  const limit = Math.min(read('/proc/sys/kernel/pid_max'), read('/proc/sys/kernel/threads-max'));
  return Number.isFinite(limit) ? limit : 32_768;
}

/**
 * Opens the fleet's streams in waves of {@link attachWave}, looking at the
 * guard between waves; resolves with why it stopped early, if it did.
 */
export async function openInWaves(
  fleet: { opened: number; openNext(count: number): void },
  total: number,
  guard: () => string | undefined,
): Promise<string | undefined> {
  while (fleet.opened < total) {
    fleet.openNext(attachWave.streams);
    if (fleet.opened < total) await sleep(attachWave.pauseMillis);
    const why = guard();
    if (why) return why;
  }
  return undefined;
}

/** What {@link attach} saw. */
export interface AttachOutcome {
  /** From the first wave of streams until every subscription received the probe, or the attach stopped. */
  seconds: number;
  /** Subscriptions that received the probe. */
  attached: number;
  /** Whether every subscription did, in time. */
  complete: boolean;
  /** Why the guard stopped the attach (the caller kills the dispatchers). */
  guard?: string;
  /** Why the probe could not be published. */
  publishFailure?: string;
}

/**
 * Opens every stream of `fleet` in waves, publishes the probe (sequence
 * `probe`, watched by `deliveries`) with the first wave, and waits until every
 * subscription received it, at most `timeoutMillis`. Stops early when the
 * guard trips (the dispatchers `pids` are then left frozen: the caller
 * measures and kills them), when every stream has ended, or when `alive`
 * says the dispatchers are gone. A probe published before a stream attaches
 * still reaches it: subscriptions start at the offsets of their creation.
 */
export async function attach(options: {
  fleet: Pick<StreamFleet, 'opened' | 'open' | 'openNext'>;
  subscriptions: number;
  deliveries: FanoutDeliveries;
  probe: number;
  publishProbe: () => Promise<unknown>;
  pids: readonly number[];
  alive: () => boolean;
  timeoutMillis: number;
}): Promise<AttachOutcome> {
  const { fleet, deliveries, probe, subscriptions, pids } = options;
  deliveries.watchProbe(probe);
  const started = Date.now();
  const outcome = (rest: Partial<AttachOutcome>): AttachOutcome => ({
    seconds: (Date.now() - started) / 1000,
    attached: deliveries.receivedProbe(probe),
    complete: deliveries.receivedProbe(probe) >= subscriptions,
    ...rest,
  });
  fleet.openNext(attachWave.streams);
  try {
    await options.publishProbe();
  } catch (error) {
    return outcome({ complete: false, publishFailure: failureKind(error) });
  }
  // The moment the guard trips, the dispatchers stop starting threads: frozen, they are measured, then killed.
  const guarded = () => {
    const why = attachGuard(pids);
    if (why) freeze(pids);
    return why;
  };
  let guard = await openInWaves(fleet, subscriptions, guarded);
  let checkedAt = Date.now();
  await waitFor(() => {
    if (guard === undefined && Date.now() - checkedAt >= attachWave.pauseMillis) {
      checkedAt = Date.now();
      guard = guarded();
    }
    return (
      guard !== undefined || deliveries.receivedProbe(probe) >= subscriptions || fleet.open === 0 || !options.alive()
    );
  }, options.timeoutMillis);
  return guard === undefined ? outcome({}) : outcome({ complete: false, guard });
}

/** MemAvailable of /proc/meminfo, in bytes. */
export function availableMemoryBytes(meminfo = readFileSync('/proc/meminfo', 'utf8')): number {
  const match = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
  return match ? Number(match[1]) * 1024 : Number.POSITIVE_INFINITY;
}

/** Threads of a process, from /proc/<pid>/status; 0 when it is gone. */
export function threadsOf(pid: number): number {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Sleeps. */
export function sleep(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}
