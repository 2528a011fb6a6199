import type { Scenario } from '../scenario';

/** Scenario 5: SIGTERM every service one by one, each restarted before the next goes. */
export const rollingRestart: Scenario = {
  name: 'rolling-restart',
  title: 'rolling restart: SIGTERM every Herald service one by one',
  description:
    'Stops each of the six service processes in turn with SIGTERM (registries, then publishers, then ' +
    'dispatchers; the short version one instance of each), checks that it exits with code 0, starts it again and waits for SERVING before the next. ' +
    'Nothing may be lost, and duplicates must stay within what was in flight at the stops (deliveries not yet ' +
    'acked, or acked within the last second, the dispatchers commit interval): no redelivery storm.',
  checkOptions: { enforceDuplicateBound: true },
  async run(ctx) {
    ctx.onCleanup(() => ctx.deployment.restoreAll());
    // The short version restarts one instance of each service; the full one all six.
    const services = ctx.deployment.services.filter(({ name }) => !ctx.short || name.endsWith('-1'));
    for (const { name, process } of services) {
      let code: number | null | undefined;
      await ctx.fault(`SIGTERM ${name}`, 'inject', async () => {
        code = await process.stop(30_000);
      });
      if (code !== 0) ctx.fail(`${name} exited with code ${code} after SIGTERM (expected 0)`);
      await ctx.fault(`restart ${name}`, 'repair', () => process.start());
      await ctx.sleep(ctx.t(3_000, 500));
    }
  },
};
