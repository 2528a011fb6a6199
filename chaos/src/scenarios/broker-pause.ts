import type { Scenario } from '../scenario';
import { noteCoordinators } from './coordinators';

/** Broker session timeout of the local cluster (`broker.session.timeout.ms` in libs/local-kafka). */
const brokerSessionTimeoutMillis = 6_000;

/** Scenario 2: SIGSTOP a broker for longer than its session timeout, then SIGCONT. */
export const brokerPause: Scenario = {
  name: 'broker-pause',
  title: 'SIGSTOP the leader of the busiest partition past its session timeout, then SIGCONT',
  description:
    'Freezes the broker leading the busiest partition (every JVM thread stopped: its sockets stay open and ' +
    'answer nothing) for 15 s (10 s short), well past its 6 s broker session timeout, so that the controller ' +
    'fences it and moves leadership while clients still hold connections to it; then resumes it.',
  needsCluster: true,
  async run(ctx) {
    const cluster = ctx.env.cluster!;
    const { leader, partition } = await ctx.deployment.busiestPartitionLeader(ctx.kafkaTopic);
    await noteCoordinators(ctx, leader);
    ctx.onCleanup(() => cluster.resumeBroker(leader));
    const pauseMillis = ctx.t(15_000, 10_000);
    if (pauseMillis <= brokerSessionTimeoutMillis) throw new Error('the pause must outlast the session timeout');
    await ctx.fault(`SIGSTOP broker ${leader} (leader of partition ${partition})`, 'inject', () =>
      cluster.pauseBroker(leader),
    );
    await ctx.sleep(pauseMillis);
    await ctx.fault(`SIGCONT broker ${leader}`, 'repair', () => cluster.resumeBroker(leader));
  },
};
