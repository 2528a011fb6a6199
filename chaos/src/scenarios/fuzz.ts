import { checkHealth } from '@herald/devstack';
import { type FuzzResult, fuzzFamilies } from '../fuzz/fuzz-cases';
import { startSampler } from '../process-sampler';
import type { Scenario } from '../scenario';

/** RSS a service may reach during the fuzz before memory counts as unbounded. */
export const fuzzRssLimitMb = 1024;

/**
 * Bad input and overload: every rpc fuzzed with malformed and extreme
 * requests, floods and stream churn, thousands of concurrent streams, all under
 * the steady load whose messages the checker follows.
 */
export const fuzz: Scenario = {
  name: 'fuzz',
  title: 'bad input and overload: malformed and extreme requests, floods, stream churn, thousands of streams',
  description:
    'While the steady load runs, raw gRPC frames go to every rpc of every service (publisher-1, registry-1, ' +
    'dispatcher-1): garbage bytes, every field with every wrong wire type, lying lengths, invalid UTF-8, each ' +
    "rpc's request sent to the others, bit-flipped and truncated valid requests, values at and past every limit " +
    '(1 MiB names and keys, 10,000 attributes, 12 MiB messages, 20,000-deep filters, out-of-range numbers and ' +
    'times), floods of unknown ack ids, nacks and deadline changes, streams opened and dropped in a loop, and ' +
    'thousands of concurrent StreamingPull, Watch, PublishStream and Tail streams. Passes when every service ' +
    `stays up and SERVING, no service's RSS passes ${fuzzRssLimitMb} MiB, the load's publishes keep succeeding ` +
    'and nothing acknowledged is lost.',
  async run(ctx) {
    const fuzzTopic = `${ctx.topic}-fuzz`;
    const fuzzSubscription = `${ctx.topic}-fuzz-sub`;
    await ctx.admin.createTopic({ name: fuzzTopic, partitions: 2 });
    await ctx.admin.createSubscription({ name: fuzzSubscription, topic: fuzzTopic });
    const services = ctx.deployment.services;
    const sampler = startSampler(ctx.deployment, 250);
    const baseline = sampler.current();
    const unhealthy: string[] = [];
    // A probe that got no answer within its deadline, once, on a 2-core machine under a flood is slowness, not
    // an outage (a Kubernetes probe fails after 3 misses by default): it counts as unhealthy from the second
    // miss in a row. Any other answer than SERVING, or an exit, counts at once.
    const slowProbes: string[] = [];
    const missesInARow = new Map<string, number>();
    let monitoring = true;
    const monitor = (async () => {
      while (monitoring) {
        for (const { name, process } of services) {
          const state = process.running
            ? await checkHealth(process.address, '', 3_000, ctx.deployment.clientCredentials)
            : 'exited';
          const missed = state.includes('Deadline exceeded');
          const misses = missed ? (missesInARow.get(name) ?? 0) + 1 : 0;
          missesInARow.set(name, misses);
          if (missed && misses === 1) slowProbes.push(`${name}: ${state}`);
          else if (state !== 'SERVING') unhealthy.push(`${name}: ${state}`);
        }
        await ctx.sleep(1_000);
      }
    })();
    const results: FuzzResult[] = [];
    const families = fuzzFamilies(
      {
        publisher: ctx.deployment.publisherEndpoints[0]!,
        registry: ctx.deployment.registryEndpoints[0]!,
        dispatcher: ctx.deployment.dispatcherEndpoints[0]!,
        topic: fuzzTopic,
        subscription: fuzzSubscription,
        credentials: ctx.deployment.clientCredentials,
      },
      ctx.short ? 0.25 : 1,
    );
    let peaks: Record<string, number> = {};
    try {
      for (const family of families) {
        await ctx.fault(`fuzz: ${family.name}`, 'inject', async () => {
          const result = await family.run();
          results.push(result);
          ctx.log(
            `${family.name}: ${result.requests} requests in ${result.millis} ms ${JSON.stringify(result.outcomes)}`,
          );
        });
      }
      await ctx.sleep(2_000);
    } finally {
      monitoring = false;
      await monitor;
      peaks = sampler.stop();
    }
    const after = Object.fromEntries(
      await Promise.all(
        services.map(
          async ({ name, process }) =>
            [name, await checkHealth(process.address, '', 1_000, ctx.deployment.clientCredentials)] as const,
        ),
      ),
    );
    for (const { name, process } of services) {
      if (!process.running) ctx.fail(`${name} is not running after the fuzz`);
      else if (after[name] !== 'SERVING') ctx.fail(`${name} answers ${after[name]} after the fuzz`);
    }
    if (unhealthy.length > 0) {
      ctx.fail(`health was not SERVING ${unhealthy.length} time(s) during the fuzz, e.g. ${unhealthy[0]}`);
    }
    if (slowProbes.length > 0) {
      ctx.note(`Health probes that missed their 3 s deadline once in a row (tolerated): ${slowProbes.join('; ')}`);
    }
    for (const [name, mb] of Object.entries(peaks)) {
      if (mb > fuzzRssLimitMb) ctx.fail(`${name} reached ${mb} MiB RSS (limit ${fuzzRssLimitMb} MiB)`);
    }
    const failedPublishes = [...ctx.history.publishes.values()].filter((p) => p.outcome === 'failed').length;
    if (failedPublishes > 0) ctx.fail(`${failedPublishes} publish(es) of the steady load failed during the fuzz`);
    ctx.note(fuzzTable(results));
    const notable = results.flatMap((r) => r.notable);
    if (notable.length > 0) {
      ctx.note(
        'Labelled requests that were accepted (OK, or a Watch or Tail stream left OPEN) or ended with INTERNAL, UNKNOWN, ' +
          'UNAVAILABLE or DEADLINE_EXCEEDED:\n\n' +
          notable.map((line) => `- ${line}`).join('\n'),
      );
    }
    ctx.note(
      '| service | RSS before (MiB) | peak RSS during (MiB) | health after |\n| --- | --: | --: | --- |\n' +
        services
          .map(({ name }) => `| ${name} | ${baseline[name] ?? '?'} | ${peaks[name] ?? '?'} | ${after[name]} |`)
          .join('\n'),
    );
  },
};

function fuzzTable(results: FuzzResult[]): string {
  const rows = results.map((r) => {
    const outcomes = Object.entries(r.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([code, count]) => `${code} ${count}`)
      .join(', ');
    return `| ${r.family} | ${r.requests} | ${outcomes} | ${(r.millis / 1000).toFixed(1)} |`;
  });
  return (
    '| fuzz family | requests / streams | how they ended | seconds |\n| --- | --: | --- | --: |\n' + rows.join('\n')
  );
}
