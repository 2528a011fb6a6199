import type { BenchEnvironment } from './bench-environment';
import type { BenchPlan, LatencyTarget } from './bench-plan';
import type { LatencySummary } from './latency-histogram';
import type { MachineLoad, ProcessUsage } from './process-stats';

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

export type ScenarioResult = { kind: 'throughput'; rows: ThroughputRow[] } | { kind: 'startup'; rows: StartupRow[] };

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
