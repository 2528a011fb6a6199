import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '@herald/local-kafka';
import type { RunMode } from './bench-plan';

/** What the command line asked for. */
export interface RunOptions {
  mode: RunMode;
  /** Scenario names to run; undefined runs all. */
  only: string[] | undefined;
  /** Folder under which the run's `<timestamp>/` folder is written. */
  resultsRoot: string;
  /** Whether to profile the publisher and dispatchers during the scenarios marked `profiled`. */
  profile: boolean;
}

export const usage = `usage: node bench/dist/src/run.js [--quick | --smoke] [--only name,...] [--profile] [--results DIR]
  --quick    fewer messages: the whole run in under 3 minutes
  --smoke    one size, a few hundred messages, no ceiling tool: proves the harness works
  --only     run only these scenarios (comma-separated names)
  --profile  CPU-profile the publisher and dispatcher during herald-end-to-end; summary in the report,
             .cpuprofile files in the run's profiles/ folder (the sampling costs those services a little)
  --results  folder for the run's report folder (default bench/results)
  KAFKA_BROKERS=host:port,...  use that Kafka instead of starting one`;

/** Parses the command line; throws with the usage on a bad one. */
export function parseRunOptions(argv: string[], scenarioNames: string[]): RunOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
      results: { type: 'string', default: path.join(repoRoot, 'bench', 'results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new Error(usage);
  if (values.quick && values.smoke) throw new Error(`--quick and --smoke exclude each other\n${usage}`);
  const only = values.only
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = only?.filter((name) => !scenarioNames.includes(name)) ?? [];
  if (unknown.length > 0) {
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${scenarioNames.join(', ')}\n${usage}`);
  }
  return {
    mode: values.smoke ? 'smoke' : values.quick ? 'quick' : 'full',
    only,
    resultsRoot: path.resolve(values.results),
    profile: values.profile,
  };
}
