/** What makes one node of a local KRaft cluster: its id, its address and its two ports. */
export interface NodeSpec {
  id: number;
  /** Address the node listens on and advertises (127.0.0.1 unless it runs in a network of its own). */
  host: string;
  /** Client (PLAINTEXT) port. */
  port: number;
  /** KRaft controller port. */
  controllerPort: number;
  /** The node's log folder. */
  logDir: string;
}

/**
 * `server.properties` of one combined broker/controller node. Every node of a
 * cluster is both, with a static voter list, so that any one of three can die
 * and the others keep a quorum.
 */
export function brokerProperties(node: NodeSpec, all: NodeSpec[]): string {
  const replicas = all.length >= 3 ? 3 : 1;
  const minIsr = all.length >= 3 ? 2 : 1;
  const internalPartitions = 10;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    listeners: `PLAINTEXT://${node.host}:${node.port},CONTROLLER://${node.host}:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${node.host}:${node.port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.quorum.voters': all.map((n) => `${n.id}@${n.host}:${n.controllerPort}`).join(','),
    'log.dirs': node.logDir,
    // Durability as the design promises: every write on all in-sync replicas, never an unclean leader.
    'default.replication.factor': replicas,
    'min.insync.replicas': minIsr,
    'unclean.leader.election.enable': false,
    'offsets.topic.replication.factor': replicas,
    'transaction.state.log.replication.factor': replicas,
    'transaction.state.log.min.isr': minIsr,
    'share.coordinator.state.topic.replication.factor': replicas,
    'share.coordinator.state.topic.min.isr': minIsr,
    // Herald creates its topics explicitly; a typo must not create one.
    'auto.create.topics.enable': false,
    'num.partitions': 1,
    // Small internal topics start faster on a laptop than the default 50 partitions.
    'offsets.topic.num.partitions': internalPartitions,
    'transaction.state.log.num.partitions': internalPartitions,
    // Without this every new consumer group waits 3 s before its first assignment.
    'group.initial.rebalance.delay.ms': 0,
    // A stopped broker leaves the ISR after 10 s instead of 30 s, so acks=all writes resume sooner.
    'replica.lag.time.max.ms': 10_000,
    'broker.session.timeout.ms': 6_000,
    'broker.heartbeat.interval.ms': 1_000,
    'log.cleaner.backoff.ms': 5_000,
    'num.network.threads': 2,
    'num.io.threads': 4,
  };
  return (
    Object.entries(settings)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n') + '\n'
  );
}
