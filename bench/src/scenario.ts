import type { BenchEnvironment } from './bench-environment';
import type { BenchPlan, LatencyTarget } from './bench-plan';
import type { LatencySummary } from './latency-histogram';
import type { MachineLoad, ProcessUsage } from './process-stats';
import type { V8Heap } from './v8-heap';

/** What a scenario gets: the running environment, the plan, and a place for progress lines. */
export interface ScenarioContext {
  env: BenchEnvironment;
  plan: BenchPlan;
  /** Unique within and across runs; scenarios put it in the names of the topics they create. */
  runId: string;
  log: (line: string) => void;
  /** The result of a scenario that ran earlier in this run, if it did and succeeded. */
  resultOf: (scenario: string) => ScenarioResult | undefined;
}

/** What a scenario's throughput figures are divided by in one of the report's "× <baseline>" columns. */
export interface Baseline {
  scenario: string;
  /** The baseline's row variant to compare with, at the same message size. @defaultValue '' */
  variant?: string;
}

/** One throughput measurement: messages of one size through one path. */
export interface ThroughputRow {
  /** Tells apart measurements of one scenario and size (`batch 10`, `batch 1`); empty when there is one. */
  variant: string;
  messageBytes: number;
  messages: number;
  seconds: number;
  /** Latency of one send (a batch, a Publish call, a record), when the scenario measures it. */
  latency: LatencySummary | undefined;
  /** Processes measured over the interval (publisher, Kafka broker, the load-generating client). */
  processes: ProcessUsage[];
  /** How busy the machine was, and how much of it was work outside the measured processes. */
  machine: MachineLoad;
  /** Facts worth a line in the report (settings, what a tool printed). */
  notes: string[];
  /** The latency this row is held to, for rows measured at a target's fixed rate; the summary says if it is met. */
  target?: LatencyTarget;
}

/** One measurement of a start-up. */
export interface StartupRow {
  variant: string;
  /** Records in the log the service replays. */
  records: number;
  /** Time to write those records (not part of the start-up). */
  writeSeconds: number;
  /** From spawning the process until its health check answered SERVING. */
  spawnToServingMillis: number;
  /** What the service logged as the time of its replay. */
  replayMillis: number | undefined;
  processes: ProcessUsage[];
  notes: string[];
}

/** One phase of a `fanout` measurement (idle or loaded), as the dispatcher under test lived it. */
export interface FanoutPhase {
  seconds: number;
  /** CPU time (user + system) of the dispatcher during the phase. */
  dispatcherCpuSeconds: number;
  /** The dispatcher's resident memory at the end of the phase. */
  dispatcherRssBytes: number;
  /** Its highest resident memory during the phase. */
  dispatcherPeakRssBytes: number;
  /** Its established TCP connections to a broker port at the end of the phase; undefined if it could not be read. */
  kafkaConnections: number | undefined;
  /** Fetch requests per second all brokers handled during the phase (JMX); undefined where not measured. */
  brokerFetchesPerSecond: number | undefined;
  /** Every metered process over the phase. */
  processes: ProcessUsage[];
  machine: MachineLoad;
}

/** The loaded phase of a `fanout` measurement: publishing on a fixed schedule. */
export interface FanoutLoadedPhase extends FanoutPhase {
  published: number;
  /** Distinct (subscription, message) deliveries of the messages published in the phase. */
  deliveries: number;
  /** Published messages times subscriptions. */
  expectedDeliveries: number;
  /** Publish (intended send time) to delivery, over every delivery. */
  latency: LatencySummary;
}

/** The loaded phase of a `fanout` measurement run again against a bare grpc-js server (`GrpcFloor`). */
export interface FanoutFloor {
  deliveries: number;
  expectedDeliveries: number;
  /** Intended send time to delivery, over every delivery. */
  latency: LatencySummary;
}

/** One N of `fanout`: N subscriptions of one topic, a stream each, on one dispatcher. */
export interface FanoutRow {
  subscriptions: number;
  /** Subscriptions the registry created (of `subscriptions`). */
  created: number;
  /** Subscriptions whose stream received the probe message: attached and delivering. */
  attached: number;
  messageBytes: number;
  /** Messages published per second in the loaded phase. */
  publishRate: number;
  createSeconds: number;
  /** From opening the streams until every subscription received the probe, or until the attach timeout. */
  attachSeconds: number;
  idle?: FanoutPhase;
  loaded?: FanoutLoadedPhase;
  /** The same streams and schedule against a bare grpc-js server: the latency no dispatcher goes under here. */
  floor?: FanoutFloor;
  notes: string[];
}

/** One dispatcher of `fanout-scale`. */
export interface FanoutScaleDispatcher {
  role: string;
  pid: number;
  /** Streams opened on it (round robin). */
  streams: number;
  /** Of those, subscriptions that received the attach probe. */
  attached: number;
  /** Resident memory once the subscriptions existed, before any stream; and once the attach phase ended. */
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** Its V8 heap at the same two moments, from its /metrics; undefined when it did not answer. */
  heapBefore?: V8Heap;
  heapAfter?: V8Heap;
  /**
   * Both again once the dispatchers had been idle for the plan's `idleSeconds` (time for a dispatcher to
   * give back what the attach burst grew of its heap and of its native memory); undefined when not measured.
   */
  rssIdleBytes?: number;
  heapIdle?: V8Heap;
  kafkaConnections: number | undefined;
  threads: number;
  /** Whether the process was still running at the end. */
  running: boolean;
}

/** `fanout-scale`: many subscriptions of one topic spread over a few dispatchers, one stream each. */
export interface FanoutScaleRow {
  subscriptions: number;
  created: number;
  createSeconds: number;
  /** Streams still open when the attach phase ended. */
  openStreams: number;
  /** Subscriptions that received the attach probe. */
  attached: number;
  /** Until every created subscription received the probe, or the timeout. */
  attachSeconds: number;
  /** Subscriptions that received the one message published after the attach phase. */
  delivered: number;
  /** Subscriptions that should have: those attached. */
  deliverTarget: number;
  deliverSeconds: number;
  dispatchers: FanoutScaleDispatcher[];
  notes: string[];
}

export type ScenarioResult =
  | { kind: 'throughput'; rows: ThroughputRow[] }
  | { kind: 'startup'; rows: StartupRow[] }
  | {
      kind: 'fanout';
      rows: FanoutRow[];
      /** Fetch requests per second the brokers handled once the last dispatcher under test had stopped: other clients. */
      backgroundFetchesPerSecond?: number;
      notes: string[];
    }
  | { kind: 'fanout-scale'; rows: FanoutScaleRow[] };

/** A benchmark scenario: runs every measurement it holds, one after the other, and cleans up what it created. */
export interface Scenario {
  /** Kebab-case name, as `--only` takes it. */
  name: string;
  /** One sentence for the report: what is measured, and how. */
  description: string;
  /** The scenarios of this run its throughput is compared with, a "× <baseline>" column each; none for a baseline. */
  baselines?: Baseline[];
  /** Whether it runs on the Herald stack; runs of only other scenarios start none (see {@link BenchEnvironment}). */
  usesHeraldStack?: boolean;
  /** Whether a `--profile` run profiles the publisher and dispatchers while this scenario runs. */
  profiled?: boolean;
  /** Why the plan leaves the scenario out, if it does (no JVM tools in a smoke run...). */
  skippedBy?: (plan: BenchPlan) => string | undefined;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}
