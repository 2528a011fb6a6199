import { type ChannelCredentials, credentials } from '@grpc/grpc-js';
import type { ServiceProcess } from '@herald/devstack';
import { HeraldPipe } from '../herald-pipe';
import type { ScenarioContext, ThroughputRow } from '../scenario';
import { measurePipe } from './herald-end-to-end';

/** A configuration of the stack's services to measure, by the environment that makes it. */
export interface ServiceVariant {
  name: string;
  env: Record<string, string>;
  /** How the benchmark's clients reach the services in this configuration. @defaultValue plaintext */
  credentials?: ChannelCredentials;
}

/** Which of the stack's services a variant restarts: the registries too when the variant changes how peers call them. */
export type RestartedServices = 'publisher and dispatchers' | 'every service';

/**
 * Measures each variant `rounds` times, in turn (what drifts on a shared
 * machine falls on all alike): the stack's services restarted with the
 * variant's environment, then the maximum end-to-end throughput of
 * `herald-end-to-end` at the plan's first message size. Leaves the services
 * restarted with `restore`.
 */
export async function measureVariants(
  context: ScenarioContext,
  variants: ServiceVariant[],
  options: { rounds: number; restart: RestartedServices; restore: Record<string, string>; pipePrefix: string },
): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const variant of variants) {
        await restartServices(context, options.restart, variant.env);
        rows.push(await measureVariant(context, variant, round, options.pipePrefix));
      }
    }
  } finally {
    await restartServices(context, options.restart, options.restore);
  }
  return rows;
}

/** The mean msg/s of the rows whose variant starts with `name`. */
export function meanRate(rows: ThroughputRow[], name: string): number {
  const of = rows.filter((row) => row.variant.startsWith(name)).map((row) => row.messages / row.seconds);
  return of.reduce((a, b) => a + b, 0) / of.length;
}

async function measureVariant(
  context: ScenarioContext,
  variant: ServiceVariant,
  round: number,
  pipePrefix: string,
): Promise<ThroughputRow> {
  const size = context.plan.sizes[0]!;
  const pipe = await HeraldPipe.open(
    context,
    `${pipePrefix}-${variant.name.replace(/[^a-z0-9]+/gi, '-')}-${round}`,
    size.messageBytes,
    size.warmupMessages + size.messages,
    'pull',
    variant.credentials ?? credentials.createInsecure(),
  );
  const row = await measurePipe(context, pipe, size);
  context.log(`    ${variant.name} (round ${round}): ${Math.round(row.messages / row.seconds)} msg/s`);
  return { ...row, variant: `${variant.name}, round ${round}` };
}

/** Restarts the services with `env` (the registries first: the others call them at start). */
async function restartServices(context: ScenarioContext, which: RestartedServices, env: Record<string, string>) {
  const { herald } = context.env;
  const services: ServiceProcess[] = [
    ...(which === 'every service' ? herald.registries : []),
    ...herald.publishers,
    ...herald.dispatchers,
  ];
  for (const service of services) await service.restartWith(env);
}
