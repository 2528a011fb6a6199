import type { Scenario } from '../scenario';
import { noteCoordinators } from './coordinators';

/**
 * kill -9 the broker that coordinates the dispatchers' group (which decides
 * who serves each subscription), then restart it: the case the broker-kill
 * scenario meets only when its victim happens to be the coordinator.
 */
export const coordinatorKill: Scenario = {
  name: 'coordinator-kill',
  title: "kill -9 the broker coordinating the dispatchers' group, then restart it",
  description:
    "Finds the broker that coordinates the dispatchers' group (the leader of the group's `__consumer_offsets` " +
    'partition), kills it with SIGKILL, leaves it dead for 20 s (8 s short), then restarts it. Membership and ' +
    'the hand-over of subscriptions between dispatchers go through the coordinator: the duplicates column shows how ' +
    'much is delivered again once subscriptions move after the outage, and the note how far the unordered ' +
    "subscription's stored cursor fell behind during the outage. Duplicates are allowed by the contract, so " +
    'only loss and order fail this scenario.',
  needsCluster: true,
  async run(ctx) {
    const cluster = ctx.env.cluster!;
    const subscription = `${ctx.topic}-plain`;
    const group = ctx.deployment.dispatcherGroup();
    const coordinator = (await ctx.deployment.groupCoordinators([group])).get(group);
    if (coordinator === undefined) throw new Error(`no coordinator found for ${group}`);
    await noteCoordinators(ctx, coordinator);
    ctx.onCleanup(async () => {
      if (!cluster.isRunning(coordinator)) await cluster.startBroker(coordinator, 120_000);
    });
    const before = await ctx.deployment.cursorLag(subscription, ctx.kafkaTopic);
    await ctx.fault(`kill -9 broker ${coordinator} (coordinator of ${group})`, 'inject', () =>
      cluster.killBroker(coordinator),
    );
    await ctx.sleep(ctx.t(20_000, 8_000));
    // Read from outside with a fresh client, which finds the new coordinator by itself.
    const during = await ctx.deployment
      .cursorLag(subscription, ctx.kafkaTopic)
      .catch((error: unknown) => String(error));
    ctx.log(`records of ${ctx.topic} beyond ${subscription}'s stored cursor: ${before} before the kill, ${during} now`);
    ctx.note(
      `Records of the topic beyond the stored cursor of \`${subscription}\`: ${before} just before the kill, ` +
        `${during} when the broker was restarted (what a partition moving then would deliver again).`,
    );
    await ctx.fault(`restart broker ${coordinator}`, 'repair', () => cluster.startBroker(coordinator, 120_000));
  },
};
