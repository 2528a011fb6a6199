import type { Scenario } from '../scenario';
import { noteCoordinators } from './coordinators';

/** Scenario 1: kill -9 the broker leading the busiest partition of the topic under load, restart it later. */
export const brokerKill: Scenario = {
  name: 'broker-kill',
  title: 'kill -9 the leader of the busiest partition, then restart it',
  description:
    'Finds the broker that leads the partition of the topic under load with the most records, kills it with ' +
    'SIGKILL (no hand-over), leaves it dead for 20 s (8 s short), then starts it again with its data and waits ' +
    'until it is back in the cluster.',
  needsCluster: true,
  async run(ctx) {
    const cluster = ctx.env.cluster!;
    const { leader, partition, records } = await ctx.deployment.busiestPartitionLeader(ctx.kafkaTopic);
    ctx.log(`partition ${partition} (${records} records) is led by broker ${leader}`);
    await noteCoordinators(ctx, leader);
    ctx.onCleanup(async () => {
      if (!cluster.isRunning(leader)) await cluster.startBroker(leader, 120_000);
    });
    await ctx.fault(`kill -9 broker ${leader} (leader of partition ${partition})`, 'inject', () =>
      cluster.killBroker(leader),
    );
    await ctx.sleep(ctx.t(20_000, 8_000));
    await ctx.fault(`restart broker ${leader}`, 'repair', () => cluster.startBroker(leader, 120_000));
  },
};
