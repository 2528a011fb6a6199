import type { Scenario } from '../scenario';
import { noteCoordinators } from './coordinators';

/**
 * Scenario 6: cut the broker leading the busiest partition off the network
 * (the brokers run in network namespaces the run made: see broker-network.ts),
 * for longer than its session timeout, then join it again.
 */
export const networkPartition: Scenario = {
  name: 'network-partition',
  title: 'cut the leader of the busiest partition off the network, then heal',
  description:
    "Every broker runs in a network namespace of the run's own, joined to the others and to the clients by a " +
    'veth pair and a bridge. Sets the veth of the broker leading the busiest partition down for 20 s (12 s ' +
    'short): its packets go nowhere while its process and open connections stay, so clients and followers see ' +
    'timeouts, not resets, and the isolated leader cannot complete an acks=all write (its followers cannot ' +
    'fetch); the controller fences it after the 6 s session timeout and elects a new leader. Then the veth comes ' +
    'up again and the broker rejoins, truncating whatever it wrote alone.',
  needsCluster: true,
  skipReason(env) {
    return Promise.resolve(
      env.network ? undefined : `no network of namespaces: ${env.networkUnavailable ?? 'not made by this run'}`,
    );
  },
  async run(ctx) {
    const network = ctx.env.network!;
    const cluster = ctx.env.cluster!;
    const { leader, partition, records } = await ctx.deployment.busiestPartitionLeader(ctx.kafkaTopic);
    ctx.log(`partition ${partition} (${records} records) is led by broker ${leader}`);
    await noteCoordinators(ctx, leader);
    ctx.onCleanup(() => network.heal(leader));
    await ctx.fault(`cut broker ${leader} off (leader of partition ${partition})`, 'inject', () => network.cut(leader));
    await ctx.sleep(ctx.t(20_000, 12_000));
    await ctx.fault(`heal the network of broker ${leader}`, 'repair', async () => {
      await network.heal(leader);
      await cluster.waitReady(120_000);
    });
  },
};
