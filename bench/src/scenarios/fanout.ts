import { Admin, Publisher } from '@herald/client';
import type { ServiceProcess } from '@herald/devstack';
import { BrokerFetchSampler, localBrokerPids } from '../broker-fetch-rate';
import type { FanoutPlan } from '../bench-plan';
import {
  attach,
  createSubscriptions,
  deleteSubscriptions,
  describeFailures,
  sleep,
  startDispatchers,
  stopAll,
} from '../fanout-harness';
import { FanoutDeliveries, waitFor } from '../fanout-deliveries';
import { LatencyHistogram } from '../latency-histogram';
import { sendOnSchedule, waitForAnswers } from '../open-loop';
import { ProcessMeter, sampleProcess } from '../process-stats';
import { brokerPorts, connectionsTo } from '../proc-sockets';
import { GrpcFloor } from '../grpc-floor';
import type { FanoutFloor, FanoutLoadedPhase, FanoutPhase, FanoutRow, Scenario, ScenarioContext } from '../scenario';
import { StampedPayloads } from '../stamped-payloads';
import { StreamFleet } from '../stream-fleet';

/**
 * CreateSubscription / DeleteSubscription requests in flight. The registry
 * runs its writes one at a time, so more only queue there; 16 keeps the
 * queue's wait under the SDK's 20 s attempt deadline even at ~0.5 s a write.
 */
const registryConcurrency = 16;

/**
 * The cost of fan-out on one dispatcher: N subscriptions of one topic, one
 * StreamingPull stream each, the same deliveries per second whatever N, so
 * that what grows with N is the cost of having subscriptions, not of traffic.
 */
export const fanout: Scenario = {
  name: 'fanout',
  usesHeraldStack: true,
  profiled: false,
  description:
    'for each N, a fresh topic and a fresh dispatcher of its own: N subscriptions created through the registry, ' +
    'one StreamingPull stream each from the benchmark process (raw grpc-js calls over shared channels, every ' +
    'delivery acked at once); a probe message published and waited for on every subscription (attach), then an ' +
    'idle phase (streams open, nothing published) and a loaded phase (1 KB messages on a fixed schedule at ' +
    "(deliveries per second) / N msg/s, so every N gets the same deliveries per second). The dispatcher's CPU " +
    'and memory come from /proc, its Kafka connections from its sockets matched against /proc/<pid>/net/tcp, ' +
    "the brokers' Fetch requests per second from Kafka's JMX meter (`RequestsPerSec,request=Fetch`, all " +
    'clients) read by JmxTool; latency is from the intended send time to each delivery. Then, for each N, the ' +
    'floor: the same streams from the same fleet to a bare grpc-js server in a process of its own, sent the same ' +
    'messages on the same schedule (no Kafka, no Herald: what the fan-out costs grpc-js and this machine).',
  async run(context) {
    const plan = context.plan.fanout;
    const rows: FanoutRow[] = [];
    const notes: string[] = [];
    const fetches = new FetchRate(context, notes);
    let backgroundFetchesPerSecond: number | undefined;
    try {
      for (const n of plan.subscriptionCounts) {
        const row = await measureN(context, plan, n, fetches);
        if (row.loaded) row.floor = await measureFloor(context, plan, row);
        rows.push(row);
      }
      backgroundFetchesPerSecond = await fetches.background(plan.idleSeconds / 2);
    } finally {
      fetches.stop();
    }
    return {
      kind: 'fanout',
      rows,
      notes,
      ...(backgroundFetchesPerSecond === undefined ? {} : { backgroundFetchesPerSecond }),
    };
  },
};

/**
 * The brokers' fetch rate, read with JmxTool once a dispatcher under test has
 * fetched (its request version's meter exists only then). When it cannot be
 * read (a Kafka elsewhere, no jcmd...) the report says why and goes on.
 */
class FetchRate {
  private sampler: BrokerFetchSampler | undefined;
  private failed = false;

  constructor(
    private readonly context: ScenarioContext,
    private readonly notes: string[],
  ) {}

  /** Starts sampling if it has not, and resolves when samples come (or it failed, noted). */
  async ensureStarted(): Promise<void> {
    if (this.sampler || this.failed) return;
    const { env } = this.context;
    const pids = env.kafkaPid ? [env.kafkaPid] : localBrokerPids(env.kafkaBrokers);
    if (pids.length === 0) {
      this.fail(`no broker of ${env.kafkaBrokers.join(',')} runs on this machine: no JMX to read`);
      return;
    }
    try {
      this.sampler = await BrokerFetchSampler.start(env.kafkaLibs, pids);
      this.notes.push(
        `broker fetch rates: JMX meter \`${'RequestsPerSec,request=Fetch'}\` of ${pids.length} broker(s) ` +
          `(pid ${pids.join(', ')}), polled every second by JmxTool through the JVM's local JMX connector ` +
          '(started with `jcmd ManagementAgent.start_local` if off); all clients of the brokers count, ' +
          'hence the background rate after the last dispatcher under test stopped',
      );
    } catch (error) {
      this.fail(`JmxTool: ${(error as Error).message}`);
    }
  }

  private fail(why: string): void {
    this.failed = true;
    this.notes.push(`broker fetch rates not measured: ${why}`);
    this.context.log(`  broker fetch rates not measured: ${why}`);
  }

  rate(fromMillis: number, toMillis: number): number | undefined {
    return this.sampler?.rate(fromMillis, toMillis);
  }

  /** The fetch rate over `seconds` from 2 s after now, with no dispatcher of ours running. */
  async background(seconds: number): Promise<number | undefined> {
    if (!this.sampler) return undefined;
    // The broker counts a fetch when it answers: long polls of the stopped dispatcher's consumers end after it.
    await sleep(2_000);
    const from = Date.now();
    await sleep(Math.max(3, seconds) * 1000);
    return this.sampler.rate(from, Date.now());
  }

  stop(): void {
    this.sampler?.stop();
  }
}

async function measureN(context: ScenarioContext, plan: FanoutPlan, n: number, fetches: FetchRate): Promise<FanoutRow> {
  const { env } = context;
  const topic = `fanout-${n}-${context.runId}`;
  const admin = new Admin({ endpoints: env.herald.registries.map((r) => r.address) });
  try {
    await admin.createTopic({ name: topic, partitions: plan.partitions });
  } finally {
    admin.close();
  }
  env.deleteAtStop(topic);
  const row: FanoutRow = {
    subscriptions: n,
    created: 0,
    attached: 0,
    messageBytes: plan.messageBytes,
    publishRate: 0,
    createSeconds: 0,
    attachSeconds: 0,
    notes: [],
  };
  const names = Array.from({ length: n }, (_, i) => `${topic}-s${i}`);
  let created: string[];
  // Created, or maybe created (a failed create may have happened all the same): what to delete at the end.
  let attempted: string[] = [];
  let dispatchers: ServiceProcess[] = [];
  let fleet: StreamFleet | undefined;
  const publisher = new Publisher({ endpoints: [env.publisher.address] });
  try {
    dispatchers = await startDispatchers(context, `fanout-${n}-dispatcher`, 1, n + 100);
    const dispatcher = dispatchers[0]!;
    const creation = await createSubscriptions(
      context,
      topic,
      names,
      registryConcurrency,
      plan.createTimeoutSeconds * 1000,
    );
    // In the order of `names`, so that subscription i is stream i.
    const done = new Set(creation.done);
    created = names.filter((name) => done.has(name));
    attempted = [...creation.done, ...creation.failed];
    row.created = created.length;
    row.createSeconds = creation.seconds;
    if (creation.failures.size > 0 || creation.notTried > 0) {
      row.notes.push(
        `${n - created.length} subscriptions not created` +
          (creation.failures.size > 0 ? `: ${describeFailures(creation.failures)}` : '') +
          (creation.notTried > 0 ? `; ${creation.notTried} not tried before the timeout` : ''),
      );
    }
    if (created.length === 0)
      throw new Error(`no subscription could be created: ${describeFailures(creation.failures)}`);
    // Over the subscriptions that exist: the same deliveries per second whatever N, even when not all were created.
    const publishRate = Math.max(1, plan.deliveriesPerSecond / created.length);
    row.publishRate = publishRate;

    const deliveries = new FanoutDeliveries(created.length);
    const payloads = new StampedPayloads(plan.messageBytes);
    fleet = StreamFleet.create({
      subscriptions: created,
      endpoints: [dispatcher.address],
      streamsPerChannel: plan.streamsPerChannel,
      onMessage: (subscription, message) => deliveries.record(subscription, message.data, process.hrtime.bigint()),
    });
    const streams = fleet;
    // Sequence 0 is the probe: it reaches a subscription once its stream is attached and delivering.
    const attached = await attach({
      fleet: streams,
      subscriptions: created.length,
      deliveries,
      probe: 0,
      publishProbe: () => publisher.publish(topic, { data: payloads.make(0, process.hrtime.bigint()) }),
      pids: [dispatcher.pid],
      alive: () => dispatcher.running,
      timeoutMillis: plan.attachTimeoutSeconds * 1000,
    });
    row.attachSeconds = attached.seconds;
    row.attached = attached.attached;
    context.log(
      `  N=${n}: ${created.length} created in ${row.createSeconds.toFixed(1)} s, ${row.attached} attached in ` +
        `${row.attachSeconds.toFixed(1)} s over ${streams.channels} channel(s)` +
        (attached.guard ? `; stopped: ${attached.guard}` : ''),
    );
    if (attached.publishFailure) row.notes.push(`the attach probe could not be published: ${attached.publishFailure}`);
    if (attached.guard) {
      // Frozen by the guard; its threads and memory go only with it.
      fleet.close();
      dispatcher.kill();
      row.notes.push(
        `attach stopped after ${streams.opened} streams were opened, and the dispatcher killed: ${attached.guard}`,
      );
    } else if (!attached.complete) {
      row.notes.push(
        `only ${row.attached} of ${created.length} subscriptions received the probe within ` +
          `${plan.attachTimeoutSeconds} s; ${streams.open} streams open` +
          (streams.endings.size > 0 ? `; streams ended: ${streams.describeEndings().join('; ')}` : '') +
          (dispatcher.running ? '' : `; the dispatcher exited: ${dispatcher.lastLoggedError() ?? 'no error logged'}`),
      );
    }
    if (row.attached === 0 || attached.guard || !dispatcher.running) return row;

    await sleep(plan.settleSeconds * 1000);
    await fetches.ensureStarted();
    const ports = brokerPorts(env.kafkaBrokers);
    const metered = [
      { role: 'dispatcher', pid: dispatcher.pid },
      ...env.metered().map((p) => (p.role.startsWith('dispatcher') ? { ...p, role: `stack ${p.role}` } : p)),
    ];

    // Idle: streams open, nothing published.
    const idleMeter = new ProcessMeter(metered);
    const idleFrom = Date.now();
    idleMeter.begin();
    await sleep(plan.idleSeconds * 1000);
    const idle = idleMeter.end();
    const idleTo = Date.now();
    row.idle = phase(idle, dispatcher.pid, ports, fetches.rate(idleFrom, idleTo));

    // Loaded: the same deliveries per second for every N.
    const count = Math.max(1, Math.round(publishRate * plan.loadedSeconds));
    const histogram = new LatencyHistogram();
    const acked = new LatencyHistogram();
    deliveries.measure(1, count, histogram);
    const loadedMeter = new ProcessMeter(metered);
    const loadedFrom = Date.now();
    loadedMeter.begin();
    let failedPublishes = 0;
    const sends = await sendOnSchedule(
      count,
      publishRate,
      (index, intendedNanos) =>
        publisher.publish(topic, { data: payloads.make(1 + index, intendedNanos) }).catch((error: unknown) => {
          failedPublishes++;
          throw error;
        }),
      acked,
    );
    const expected = count * row.attached;
    const drained = await waitFor(() => deliveries.measuredDeliveries >= expected, plan.drainTimeoutSeconds * 1000);
    await waitForAnswers(sends.answers, plan.drainTimeoutSeconds * 1000);
    const loaded = loadedMeter.end();
    const loadedTo = Date.now();
    const loadedPhase: FanoutLoadedPhase = {
      ...phase(loaded, dispatcher.pid, ports, fetches.rate(loadedFrom, loadedTo)),
      published: count - failedPublishes,
      deliveries: deliveries.measuredDeliveries,
      expectedDeliveries: count * created.length,
      latency: histogram.summary(),
    };
    row.loaded = loadedPhase;
    context.log(
      `  N=${n}: idle ${((row.idle.dispatcherCpuSeconds / row.idle.seconds) * 100).toFixed(1)}% of a core, ` +
        `${((loadedPhase.dispatcherCpuSeconds * 1e6) / Math.max(1, loadedPhase.deliveries)).toFixed(1)} µs/delivery, ` +
        `${loadedPhase.kafkaConnections ?? '?'} Kafka connections, p99 ${loadedPhase.latency.p99Millis.toFixed(1)} ms`,
    );
    row.notes.push(
      `${count} messages of ${plan.messageBytes} B at ${formatRate(publishRate)} msg/s over ${plan.loadedSeconds} s ` +
        `(sent in ${sends.sendSeconds.toFixed(1)} s) to ${created.length} subscriptions on ${streams.channels} ` +
        `gRPC channel(s); publish acknowledged p50 / p99 ${acked.summary().p50Millis.toFixed(1)} / ` +
        `${acked.summary().p99Millis.toFixed(1)} ms`,
    );
    if (!drained) {
      row.notes.push(
        `${expected - deliveries.measuredDeliveries} of ${expected} deliveries to attached subscriptions missing ` +
          `${plan.drainTimeoutSeconds} s after the last publish`,
      );
    }
    if (failedPublishes > 0) row.notes.push(`${failedPublishes} publishes failed`);
    if (deliveries.duplicates > 0) row.notes.push(`${deliveries.duplicates} deliveries were duplicates`);
    if (sends.lateSends > 0) row.notes.push(`${sends.lateSends} sends left more than 2 ms after their intended time`);
    if (streams.endings.size > 0) row.notes.push(`streams ended: ${streams.describeEndings().join('; ')}`);
    return row;
  } finally {
    fleet?.close();
    await publisher.close().catch(() => undefined);
    await stopAll(dispatchers);
    await deleteSubscriptions(context, attempted, registryConcurrency, 60_000);
  }
}

/**
 * The loaded phase again, against {@link GrpcFloor} instead of Herald: as many
 * streams as were attached, a probe that every stream must receive first (as
 * the attach probe does for Herald), the settle time, then the same messages
 * on the same schedule. Failures are the row's notes, never the run's.
 */
async function measureFloor(
  context: ScenarioContext,
  plan: FanoutPlan,
  row: FanoutRow,
): Promise<FanoutFloor | undefined> {
  let floor: GrpcFloor | undefined;
  let fleet: StreamFleet | undefined;
  try {
    floor = await GrpcFloor.start(plan.messageBytes);
    const server = floor;
    const n = row.attached;
    const deliveries = new FanoutDeliveries(n);
    fleet = StreamFleet.create({
      subscriptions: Array.from({ length: n }, (_, i) => `floor-${i}`),
      endpoints: [server.address],
      streamsPerChannel: plan.streamsPerChannel,
      onMessage: (subscription, message) => deliveries.record(subscription, message.data, process.hrtime.bigint()),
    });
    fleet.openNext(n);
    const alive = () => server.running && fleet!.open > 0;
    const timeout = plan.attachTimeoutSeconds * 1000;
    if (!(await waitFor(() => server.attached >= n || !alive(), timeout)) || !alive()) {
      throw new Error(`${server.attached} of ${n} streams attached`);
    }
    deliveries.watchProbe(0);
    server.deliver(0, process.hrtime.bigint());
    if (!(await waitFor(() => deliveries.receivedProbe(0) >= n || !alive(), timeout)) || !alive()) {
      throw new Error(`the probe reached ${deliveries.receivedProbe(0)} of ${n} streams`);
    }
    await sleep(plan.settleSeconds * 1000);
    const count = row.loaded!.published;
    const histogram = new LatencyHistogram();
    deliveries.measure(1, count, histogram);
    await sendOnSchedule(
      count,
      row.publishRate,
      async (index, intendedNanos) => server.deliver(1 + index, intendedNanos),
      new LatencyHistogram(),
    );
    await waitFor(() => deliveries.measuredDeliveries >= count * n || !alive(), plan.drainTimeoutSeconds * 1000);
    context.log(`  N=${row.subscriptions}: grpc-js floor p99 ${histogram.summary().p99Millis.toFixed(1)} ms`);
    return { deliveries: deliveries.measuredDeliveries, expectedDeliveries: count * n, latency: histogram.summary() };
  } catch (error) {
    row.notes.push(`grpc-js floor not measured: ${(error as Error).message}`);
    return undefined;
  } finally {
    fleet?.close();
    await floor?.stop();
  }
}

function phase(
  interval: ReturnType<ProcessMeter['end']>,
  pid: number,
  ports: Set<number>,
  brokerFetchesPerSecond: number | undefined,
): FanoutPhase {
  const usage = interval.processes.find((p) => p.pid === pid);
  let rssBytes = 0;
  let kafkaConnections: number | undefined;
  try {
    rssBytes = sampleProcess(pid).rssBytes;
    kafkaConnections = connectionsTo(pid, ports);
  } catch {
    // the dispatcher is gone: what the meter saw stands
  }
  return {
    seconds: interval.seconds,
    dispatcherCpuSeconds: usage?.cpuSeconds ?? 0,
    dispatcherRssBytes: rssBytes,
    dispatcherPeakRssBytes: usage?.peakRssBytes ?? 0,
    kafkaConnections,
    brokerFetchesPerSecond,
    processes: interval.processes,
    machine: interval.machine,
  };
}

function formatRate(rate: number): string {
  return rate >= 10 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1);
}
