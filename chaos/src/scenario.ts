import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { Admin } from '@herald/client';
import type { LocalKafkaCluster } from '@herald/local-kafka';
import type { BrokerNetwork } from './broker-network';
import { type CheckOptions, type Verdict, check, mustReceive } from './checker';
import { ChaosDeployment } from './deployment';
import type { ChaosSecurity } from './security';
import { FanoutSet, fanoutRateSetting, fanoutSubscriptionsSetting } from './fanout';
import { type FaultEvent, History } from './history';
import { auditKafka } from './kafka-audit';
import { PublishLoad, PushReceiverLoad, SubscribeLoad } from './load';
import { type ProcessSampler, startSampler } from './process-sampler';

/** Where scenarios run. */
export interface ScenarioEnvironment {
  brokers: string[];
  /** The local cluster, for broker faults; undefined when Kafka is someone else's. */
  cluster: LocalKafkaCluster | undefined;
  /** The brokers' own network, for the network partition; undefined when the run could not make it. */
  network?: BrokerNetwork;
  /** Why there is no `network`. */
  networkUnavailable?: string;
  /** A deployment the scenarios share (the short suite); without it each scenario starts its own. */
  shared?: ChaosDeployment;
  /** Deployments this run starts are secured so (`--secure`); plaintext without. */
  security?: ChaosSecurity;
  /** Folder for service logs (one subfolder per scenario). */
  logDir: string;
  /** Folder for the history files. */
  outDir: string;
  /** The short version of every scenario, for `make test`. */
  short: boolean;
  /** Messages per second of the steady load, all publishers together. @defaultValue 300 (150 short) */
  rate?: number;
  /** Subscriptions of the fan-out set; 0 runs none. @defaultValue `CHAOS_FANOUT_SUBSCRIPTIONS`, or 200 (20 short) */
  fanoutSubscriptions?: number;
  /** Messages per second published to the fan-out topic. @defaultValue `CHAOS_FANOUT_RATE`, or 5 */
  fanoutRate?: number;
  log: (line: string) => void;
}

/** What a scenario gets while it runs. */
export interface ScenarioContext {
  env: ScenarioEnvironment;
  deployment: ChaosDeployment;
  history: History;
  admin: Admin;
  /** The Herald topic under load, and its Kafka topic. */
  topic: string;
  kafkaTopic: string;
  publishers: PublishLoad[];
  subscribers: SubscribeLoad[];
  /** The fan-out set (its own topic, hundreds of subscriptions), unless turned off. */
  fanout: FanoutSet | undefined;
  short: boolean;
  log(line: string): void;
  /** `full` milliseconds, or `short` in the short suite. */
  t(full: number, short: number): number;
  sleep(millis: number): Promise<void>;
  /** Runs a fault action and records it (start, and end once `act` resolved). */
  fault(action: string, kind: FaultEvent['kind'], act: () => Promise<void> | void): Promise<void>;
  /** Runs at the end, whatever happened (restart what the scenario broke). */
  onCleanup(cleanup: () => Promise<void> | void): void;
  /** A subscriber on `subscription`, recorded in the history. */
  addSubscriber(
    subscription: string,
    endpoints: string[],
    name: string,
    maxAckDelayMillis?: number,
    exactlyOnce?: boolean,
  ): SubscribeLoad;
  /** Markdown added to the scenario's report section. */
  note(markdown: string): void;
  /** A failure the checker cannot see (a service down, memory unbounded...). */
  fail(reason: string): void;
}

/** One fault-injection scenario. */
export interface Scenario {
  name: string;
  title: string;
  /** What it does, for the report. */
  description: string;
  /** Partitions of the topic under load. @defaultValue 6 */
  partitions?: number;
  /** Add a subscriber per subscription pinned to dispatcher-1 (so that it surely holds leases). */
  pinnedSubscribers?: boolean;
  /** Needs the local cluster (broker faults). */
  needsCluster?: boolean;
  checkOptions?: CheckOptions;
  /** How long the drain may wait for expected deliveries. @defaultValue 120 s (60 s short) */
  drainTimeoutMillis?: number;
  /** A reason to skip here, or undefined. */
  skipReason?(env: ScenarioEnvironment): Promise<string | undefined>;
  run(ctx: ScenarioContext): Promise<void>;
  /**
   * Failures of the scenario given the verdict. Default: the checker's own. The
   * control run turns it around: it fails when the checker sees no loss.
   */
  judge?(verdict: Verdict, ctx: ScenarioContext): string[];
}

/** What became of one scenario. */
export interface ScenarioResult {
  name: string;
  title: string;
  description: string;
  verdict: Verdict | undefined;
  skipped: string | undefined;
  error: string | undefined;
  failures: string[];
  notes: string[];
  /** Peak RSS of each service process during the scenario, in MiB. */
  peakRssMb: Record<string, number>;
  /** What the load clients counted (stream breaks, resends, subscriber errors). */
  counters: Record<string, number>;
  historyFile: string | undefined;
  durationMillis: number;
  ok: boolean;
}

/** The result of a scenario that has not run (yet). */
export function emptyResult(scenario: Scenario): ScenarioResult {
  return {
    name: scenario.name,
    title: scenario.title,
    description: scenario.description,
    verdict: undefined,
    skipped: undefined,
    error: undefined,
    failures: [],
    notes: [],
    peakRssMb: {},
    counters: {},
    historyFile: undefined,
    durationMillis: 0,
    ok: false,
  };
}

/**
 * Runs one scenario: a topic (6 partitions) with an unordered and an ordered
 * subscription, two subscribers on each, an SDK publisher and a PublishStream
 * publisher at a steady rate; warm-up, the scenario's faults, a settle time,
 * then the load stops, everything drains, Kafka is read from offset 0, and the
 * checker judges. Whatever happens, what the scenario broke is repaired and
 * what it started is stopped.
 */
export async function runScenario(scenario: Scenario, env: ScenarioEnvironment): Promise<ScenarioResult> {
  const started = Date.now();
  const result = emptyResult(scenario);
  const skip =
    scenario.needsCluster && !env.cluster
      ? 'needs the local Kafka cluster (KAFKA_BROKERS names another)'
      : await scenario.skipReason?.(env);
  if (skip) {
    env.log(`[${scenario.name}] skipped: ${skip}`);
    return { ...result, skipped: skip, ok: true, durationMillis: Date.now() - started };
  }
  const log = (line: string) => env.log(`[${scenario.name}] ${line}`);
  const history = new History(scenario.name);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  let deployment = env.shared;
  const cleanups: Array<() => Promise<void> | void> = [];
  const publishers: PublishLoad[] = [];
  const subscribers: SubscribeLoad[] = [];
  const extraFailures: string[] = [];
  let admin: Admin | undefined;
  let sampler: ProcessSampler | undefined;
  let loadStoppedAt: number | undefined;
  let ctx: ScenarioContext | undefined;
  let fanout: FanoutSet | undefined;
  try {
    if (!deployment) {
      log('starting Herald: 2 registries, 2 publishers, 2 dispatchers');
      deployment = await ChaosDeployment.start({
        brokers: env.brokers,
        cluster: env.cluster,
        prefix: `chaos-${scenario.name}-${stamp}.`,
        logDir: path.join(env.logDir, scenario.name),
        security: env.security,
      });
      for (const failure of deployment.startFailures) {
        log(`a start of the deployment failed and was retried: ${failure}`);
        result.notes.push(`**Finding**: a start of the deployment failed and was retried: \`${failure}\``);
      }
    }
    const { clientCredentials } = deployment;
    const topic = env.shared ? `${scenario.name}-load` : 'load';
    admin = new Admin({
      endpoints: deployment.registryEndpoints,
      credentials: deployment.clientCredentials,
      retry: { totalTimeoutMillis: 60_000 },
    });
    sampler = startSampler(deployment);
    ctx = {
      env,
      deployment,
      history,
      admin,
      topic,
      kafkaTopic: `${deployment.prefix}${topic}`,
      publishers,
      subscribers,
      fanout: undefined,
      short: env.short,
      log,
      t: (full, short) => (env.short ? short : full),
      sleep: (millis) => new Promise((resolve) => setTimeout(resolve, millis)),
      fault: async (action, kind, act) => {
        const at = Date.now();
        log(`${kind}: ${action}`);
        const fanoutStreams = fanout?.streamsByDispatcher();
        try {
          await act();
        } finally {
          history.fault({ action, kind, at, doneAt: Date.now(), ...(fanoutStreams ? { fanoutStreams } : {}) });
        }
      },
      onCleanup: (cleanup) => cleanups.push(cleanup),
      addSubscriber: (subscription, endpoints, name, maxAckDelayMillis, exactlyOnce) => {
        const subscriber = new SubscribeLoad({
          subscription,
          endpoints,
          credentials: clientCredentials,
          name,
          history,
          maxAckDelayMillis,
          exactlyOnce,
        });
        subscribers.push(subscriber);
        return subscriber;
      },
      note: (markdown) => result.notes.push(markdown),
      fail: (reason) => extraFailures.push(reason),
    };
    await admin.createTopic({ name: topic, partitions: scenario.partitions ?? 6 });
    // `once`: exactly-once delivery, unordered; the checker holds it to no delivery after a confirmed ack.
    for (const [suffix, ordered, exactlyOnce] of [
      ['plain', false, false],
      ['ordered', true, false],
      ['once', false, true],
    ] as const) {
      const name = `${topic}-${suffix}`;
      await admin.createSubscription({
        name,
        topic,
        ackDeadlineSeconds: 10,
        enableMessageOrdering: ordered,
        enableExactlyOnceDelivery: exactlyOnce,
      });
      const createdAt = Date.now();
      history.subscriptionCreated({
        name,
        topic,
        ordered,
        createdAt,
        receiveSentFrom: createdAt,
        steady: true,
        ...(exactlyOnce ? { exactlyOnce } : {}),
      });
      for (let i = 1; i <= 2; i++) {
        ctx.addSubscriber(name, deployment.dispatcherEndpoints, `${suffix}-${i}`, undefined, exactlyOnce);
      }
      if (scenario.pinnedSubscribers) {
        // On the unordered subscriptions it acks slowly, so that it always holds leased messages; on the
        // ordered one a slow ack would hold back every key it serves, so it acks as fast as the others.
        ctx.addSubscriber(
          name,
          [deployment.dispatcherEndpoints[0]!],
          `${suffix}-pinned-dispatcher-1`,
          ordered ? 30 : 1_000,
          exactlyOnce,
        );
      }
    }
    {
      // A push subscription in the steady load: the dispatcher serving it (whichever, across failovers)
      // POSTs each message to an HTTP endpoint in this process, which acks by answering 204.
      const name = `${topic}-push`;
      const receiver = await PushReceiverLoad.start({ subscription: name, name: 'push-endpoint', history });
      cleanups.push(() => receiver.close());
      await admin.createSubscription({ name, topic, ackDeadlineSeconds: 10, push: { endpoint: receiver.url } });
      const createdAt = Date.now();
      history.subscriptionCreated({ name, topic, ordered: false, createdAt, receiveSentFrom: createdAt, steady: true });
    }
    const fanoutSubscriptions = env.fanoutSubscriptions ?? fanoutSubscriptionsSetting(env.short);
    if (fanoutSubscriptions > 0) {
      fanout = await FanoutSet.start({
        admin,
        history,
        topic: `${topic}-fanout`,
        subscriptions: fanoutSubscriptions,
        rate: env.fanoutRate ?? fanoutRateSetting(),
        publisherName: `${scenario.name}-fanout`,
        publisherEndpoints: deployment.publisherEndpoints,
        dispatcherEndpoints: deployment.dispatcherEndpoints,
        credentials: deployment.clientCredentials,
        log,
      });
      ctx.fanout = fanout;
      publishers.push(fanout.publisher);
    }
    const rate = env.rate ?? (env.short ? 150 : 300);
    for (const kind of ['sdk', 'stream'] as const) {
      publishers.push(
        new PublishLoad({
          name: `${scenario.name}-${kind}`,
          topic,
          rate: rate / 2,
          keys: 32,
          history,
          via: { kind, endpoints: deployment.publisherEndpoints, credentials: deployment.clientCredentials },
        }),
      );
    }
    publishers.forEach((p) => p.start());
    await waitUntil(() => everySubscriptionGot(history), 60_000, 'first deliveries on every subscription');
    if (fanout) {
      const set = fanout;
      const waitStart = Date.now();
      await waitUntil(
        () => set.subscriptionsReceiving === fanoutSubscriptions,
        120_000,
        `first deliveries on every fan-out subscription (${set.subscriptionsReceiving} of ${fanoutSubscriptions} so far)`,
      );
      log(`fan-out: every subscription receiving after ${((Date.now() - waitStart) / 1000).toFixed(1)} s more`);
    }
    await ctx.sleep(ctx.t(5_000, 2_000));
    log(
      `load running: ${history.publishes.size} sent, ${history.deliveries.length} delivered` +
        (fanout ? `, ${fanout.record.deliveries} fan-out deliveries` : ''),
    );
    await scenario.run(ctx);
    await ctx.sleep(ctx.t(8_000, 2_000));
    log('stopping the load');
    await Promise.all(publishers.map((p) => p.stop()));
    loadStoppedAt = Date.now();
    const drainStart = Date.now();
    const drained = await waitUntil(
      () => undelivered(history) === 0,
      scenario.drainTimeoutMillis ?? ctx.t(120_000, 60_000),
      'drain',
    ).then(
      () => true,
      () => false,
    );
    await waitQuiet(history, 3_000, 20_000);
    log(
      drained
        ? `drained in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`
        : `not drained: ${undelivered(history)} expected deliveries missing`,
    );
  } catch (error) {
    result.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`error: ${result.error}`);
  } finally {
    await Promise.all(publishers.map((p) => p.stop().catch(() => undefined)));
    await Promise.all(subscribers.map((s) => s.close().catch(() => undefined)));
    await fanout?.close();
    await Promise.all(publishers.map((p) => p.close()));
    for (const cleanup of cleanups.reverse()) {
      await Promise.resolve()
        .then(cleanup)
        .catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
    }
    result.peakRssMb = sampler?.stop() ?? {};
    admin?.close();
  }
  try {
    for (const publisher of publishers) {
      if (publisher.stream) {
        history.count(`${publisher.name}: stream breaks with requests unanswered`, publisher.stream.stats.breaks);
        history.count(`${publisher.name}: requests resent`, publisher.stream.stats.resent);
        for (const [reason, count] of Object.entries(publisher.stream.stats.breakReasons)) {
          history.count(`${publisher.name}: stream ended (${reason})`, count);
        }
      }
    }
    if (deployment) {
      log('reading every topic from Kafka');
      const topicPrefix = env.shared ? `${deployment.prefix}${scenario.name}-` : deployment.prefix;
      const audit = await auditKafka(env.brokers, deployment.prefix, 120_000, (t) => t.startsWith(topicPrefix));
      result.verdict = check(history, audit, { ...scenario.checkOptions, loadStoppedAt });
      result.failures = [...(scenario.judge && ctx ? scenario.judge(result.verdict, ctx) : result.verdict.failures)];
    }
  } catch (error) {
    result.error ??= error instanceof Error ? (error.stack ?? error.message) : String(error);
  } finally {
    if (deployment && deployment !== env.shared) {
      log('stopping Herald');
      await deployment.stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
    }
  }
  result.counters = Object.fromEntries(history.counters);
  mkdirSync(env.outDir, { recursive: true });
  result.historyFile = path.join(env.outDir, `history-${scenario.name}-${stamp}.json`);
  history.save(result.historyFile, { verdict: result.verdict, error: result.error });
  result.failures.push(...extraFailures);
  if (result.error) result.failures.push(`error: ${result.error.split('\n')[0]}`);
  result.ok = result.failures.length === 0;
  result.durationMillis = Date.now() - started;
  const v = result.verdict;
  log(
    `${result.ok ? 'PASS' : 'FAIL'} in ${(result.durationMillis / 1000).toFixed(0)} s` +
      (v
        ? `: acked ${v.acknowledged}, delivered ${v.delivered}, lost ${v.lost}, duplicates ${v.duplicates}, reordered keys ${v.reorderedKeys}, heal ${(v.healMillis / 1000).toFixed(1)} s`
        : '') +
      (result.failures.length > 0 ? `; ${result.failures.join('; ')}` : ''),
  );
  return result;
}

function everySubscriptionGot(history: History): boolean {
  const got = new Set(history.deliveries.map((d) => d.subscription));
  return [...history.subscriptions.keys()].every((name) => got.has(name));
}

/** (subscription, message) pairs still to be delivered: acknowledged, expected, not received. */
export function undelivered(history: History): number {
  const received = new Map<string, Set<string>>();
  for (const d of history.deliveries) {
    let set = received.get(d.subscription);
    if (!set) received.set(d.subscription, (set = new Set()));
    set.add(d.id);
  }
  let missing = 0;
  for (const subscription of history.subscriptions.values()) {
    const got = received.get(subscription.name) ?? new Set<string>();
    for (const publish of history.publishes.values()) {
      if (publish.outcome !== 'acked' || publish.topic !== subscription.topic) continue;
      if (mustReceive(subscription, publish) && !got.has(publish.id)) missing++;
    }
  }
  const fanout = history.fanout;
  if (fanout) {
    for (const publish of history.publishes.values()) {
      if (publish.outcome !== 'acked' || publish.topic !== fanout.topic) continue;
      // Most messages reached every subscription: only those that did not need a look at each one.
      if (fanout.reached(publish.id) === fanout.subscriptions.length) continue;
      fanout.subscriptions.forEach((subscription, s) => {
        if (publish.sentAt >= subscription.createdAt && fanout.count(s, publish.id) === 0) missing++;
      });
    }
  }
  return missing;
}

/** Waits until no delivery arrived for `quietMillis` (late duplicates have come), at most `maxMillis`. */
async function waitQuiet(history: History, quietMillis: number, maxMillis: number): Promise<void> {
  const deadline = Date.now() + maxMillis;
  while (Date.now() < deadline && Date.now() - history.latestDeliveryAt < quietMillis) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Polls `condition` every 500 ms; rejects after `timeoutMillis`. */
export async function waitUntil(condition: () => boolean, timeoutMillis: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
