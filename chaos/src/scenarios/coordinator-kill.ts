import type { Scenario } from '../scenario';
import { noteCoordinators } from './coordinators';

/**
 * kill -9 the broker that coordinates the unordered subscription's consumer
 * group (where the dispatchers commit), then restart it: the case the
 * broker-kill scenario meets only when its victim happens to be a coordinator.
 */
export const coordinatorKill: Scenario = {
  name: 'coordinator-kill',
  title: "kill -9 the broker coordinating a subscription's consumer group, then restart it",
  description:
    "Finds the broker that coordinates the consumer group of the unordered subscription (the leader of the group's " +
    '`__consumer_offsets` partition), kills it with SIGKILL, leaves it dead for 20 s (8 s short), then restarts it. ' +
    'The dispatchers commit through the coordinator: the duplicates column shows how much is delivered again once ' +
    'partitions move after the outage, against what was in flight, and the note how far the commits fell behind ' +
    'during the outage. Duplicates are allowed by the contract, so ' +
    'only loss and order fail this scenario.',
  needsCluster: true,
  async run(ctx) {
    const cluster = ctx.env.cluster!;
    const group = ctx.deployment.groupOf(`${ctx.topic}-plain`);
    const coordinator = (await ctx.deployment.groupCoordinators([group])).get(group);
    if (coordinator === undefined) throw new Error(`no coordinator found for ${group}`);
    await noteCoordinators(ctx, coordinator);
    ctx.onCleanup(async () => {
      if (!cluster.isRunning(coordinator)) await cluster.startBroker(coordinator, 120_000);
    });
    const before = await ctx.deployment.commitLag(group, ctx.kafkaTopic);
    await ctx.fault(`kill -9 broker ${coordinator} (coordinator of ${group})`, 'inject', () =>
      cluster.killBroker(coordinator),
    );
    await ctx.sleep(ctx.t(20_000, 8_000));
    // Read from outside with a fresh client, which finds the new coordinator by itself.
    const during = await ctx.deployment.commitLag(group, ctx.kafkaTopic).catch((error: unknown) => String(error));
    ctx.log(`records of ${ctx.topic} not covered by the group's commits: ${before} before the kill, ${during} now`);
    ctx.note(
      `Records of the topic beyond the committed offsets of \`${group}\`: ${before} just before the kill, ` +
        `${during} when the broker was restarted (what a partition moving then would deliver again).`,
    );
    await ctx.fault(`restart broker ${coordinator}`, 'repair', () => cluster.startBroker(coordinator, 120_000));
  },
};
