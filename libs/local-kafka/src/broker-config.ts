/** What makes one node of a local KRaft cluster: its id, its address and its two ports. */
export interface NodeSpec {
  id: number;
  /** Address the node listens on and advertises (127.0.0.1 unless it runs in a network of its own). */
  host: string;
  /** Client (PLAINTEXT) port. */
  port: number;
  /** KRaft controller port. */
  controllerPort: number;
  /** Port of the SASL_SSL listener, when the cluster has one. */
  saslSslPort?: number;
  /** Port of the SSL listener (client certificates required), when the cluster has one. */
  sslPort?: number;
  /** The node's log folder. */
  logDir: string;
}

/** What the TLS listeners of a node need: its key store, the CA it trusts, the SASL user of PLAIN. */
export interface BrokerTls {
  /** Private key and certificate chain, PEM. */
  keyStoreFile: string;
  /** CA certificates, PEM: the client certificates the SSL listener accepts are signed by one of these. */
  trustStoreFile: string;
  /** The user PLAIN knows (SCRAM users live in the cluster's metadata, added when formatting). */
  username: string;
  password: string;
}

/**
 * `server.properties` of one combined broker/controller node. Every node of a
 * cluster is both, with a static voter list, so that any one of three can die
 * and the others keep a quorum.
 */
export function brokerProperties(node: NodeSpec, all: NodeSpec[], tls?: BrokerTls): string {
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
  if (node.saslSslPort !== undefined || node.sslPort !== undefined) {
    if (!tls) throw new Error(`node ${node.id} has a TLS listener but no certificates`);
    Object.assign(settings, tlsListenerSettings(node, tls));
  }
  return (
    Object.entries(settings)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n') + '\n'
  );
}

/**
 * Adds the TLS listeners to a node's settings. Brokers and controllers keep
 * talking to each other in plaintext on loopback: the listeners under test
 * are the ones clients use, and they learn only those from the metadata.
 */
function tlsListenerSettings(node: NodeSpec, tls: BrokerTls): Record<string, string> {
  const extra: Array<[name: string, port: number]> = [];
  if (node.saslSslPort !== undefined) extra.push(['SASL_SSL', node.saslSslPort]);
  if (node.sslPort !== undefined) extra.push(['SSL', node.sslPort]);
  const listeners = extra.map(([name, port]) => `${name}://${node.host}:${port}`).join(',');
  const settings: Record<string, string> = {
    listeners: `PLAINTEXT://${node.host}:${node.port},CONTROLLER://${node.host}:${node.controllerPort},${listeners}`,
    'advertised.listeners': `PLAINTEXT://${node.host}:${node.port},${listeners}`,
    'listener.security.protocol.map': [
      'PLAINTEXT:PLAINTEXT',
      'CONTROLLER:PLAINTEXT',
      ...extra.map(([name]) => `${name}:${name}`),
    ].join(','),
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': tls.keyStoreFile,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': tls.trustStoreFile,
  };
  if (node.saslSslPort !== undefined) {
    const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    settings['listener.name.sasl_ssl.sasl.enabled.mechanisms'] = 'SCRAM-SHA-512,SCRAM-SHA-256,PLAIN';
    settings['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config'] = scram;
    settings['listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config'] = scram;
    settings['listener.name.sasl_ssl.plain.sasl.jaas.config'] =
      `org.apache.kafka.common.security.plain.PlainLoginModule required user_${tls.username}="${tls.password}";`;
  }
  // The SSL listener is the mTLS one: a client without a certificate the CA signed is refused.
  if (node.sslPort !== undefined) settings['listener.name.ssl.ssl.client.auth'] = 'required';
  return settings;
}
