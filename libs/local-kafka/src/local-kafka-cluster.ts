import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type BrokerTls, brokerProperties, type NodeSpec } from './broker-config';
import { ensureKafkaJars } from './jars';
import { kafkaDeployDir } from './paths';
import { isAlive, isPortOpen, signal, terminate, waitForExit } from './process-control';
import { makeTestCertificates } from './test-certificates';

/** Options of {@link LocalKafkaCluster.start}. */
export interface LocalKafkaOptions {
  /** Number of nodes, each broker and controller. 3 gives replication factor 3 and min ISR 2. */
  brokers: number;
  /** Folder for the cluster's state file, node configs, data and logs. */
  dir: string;
  /** Client port of node 1; node n listens on `basePort + 2(n-1)`, its controller one above. */
  basePort: number;
  /** Keep the data of an earlier run in `dir` (for `make run`) instead of starting empty. @defaultValue false */
  keepData?: boolean;
  /**
   * Address each node listens on and advertises, by node index (node 1 first).
   * @defaultValue 127.0.0.1 for every node
   */
  hosts?: string[];
  /**
   * A command each node's JVM runs under, by node id; it must exec the JVM in
   * place so that the pid stays the node's (as `ip netns exec NAME` does, to
   * start a node inside a network namespace). @defaultValue none
   */
  launchPrefix?: (nodeId: number) => string[];
  /** Maximum JVM heap per node, in MiB. @defaultValue 512 */
  heapMb?: number;
  /** Progress lines. @defaultValue none */
  log?: (line: string) => void;
  /**
   * TLS listeners besides the plaintext one, for tests of Herald's Kafka
   * security: certificates are made with openssl at each start, into `dir`.
   * Their ports follow every node's two: node n's SASL_SSL port is
   * `basePort + 2·brokers + (n-1)`, and its SSL port the next block's.
   * @defaultValue none: plaintext only
   */
  tlsListeners?: TlsListenerOptions;
}

/** The TLS listeners a local cluster can add. */
export interface TlsListenerOptions {
  /** SASL over TLS, with one user for SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN. */
  saslSsl?: boolean;
  /** TLS requiring a client certificate the cluster's CA signed (mTLS). */
  ssl?: boolean;
}

/** What a client needs to use a local cluster's TLS listeners: the CA, a client certificate, the SASL user. */
export interface LocalKafkaSecurity {
  /** PEM of the CA that signed the brokers' certificates. */
  caFile: string;
  /** Client certificate and its encrypted key, for the SSL listener. */
  clientCertificateFile: string;
  clientKeyFile: string;
  clientKeyPassword: string;
  /** The SASL user (SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN) and its password, also in {@link passwordFile}. */
  username: string;
  password: string;
  passwordFile: string;
}

/** One node as the state file records it. */
export interface NodeState extends NodeSpec {
  pid: number;
  /** {@link LocalKafkaOptions.launchPrefix} of this node, kept for restarts. */
  launchPrefix: string[];
  logFile: string;
  configFile: string;
}

interface ClusterState {
  clusterId: string;
  libs: string;
  heapMb: number;
  nodes: NodeState[];
  /** Present when the nodes have TLS listeners. */
  security?: LocalKafkaSecurity;
}

const stateFileName = 'cluster.json';

/**
 * A Kafka cluster of JVM processes on loopback, in KRaft mode, from the jars
 * pinned in `deploy/kafka`. Its state file (pids, ports) lets another process
 * attach to it, and lets a later run kill what an aborted run left behind.
 */
export class LocalKafkaCluster {
  private constructor(
    readonly dir: string,
    private state: ClusterState,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts a cluster and resolves once every node is up and can lead partitions. */
  static async start(options: LocalKafkaOptions): Promise<LocalKafkaCluster> {
    const log = options.log ?? (() => {});
    await LocalKafkaCluster.stopLeftovers(options.dir);
    const count = options.brokers;
    const saslSslBase = options.tlsListeners?.saslSsl ? options.basePort + 2 * count : undefined;
    const sslBase = options.tlsListeners?.ssl
      ? options.basePort + 2 * count + (saslSslBase === undefined ? 0 : count)
      : undefined;
    const nodes: NodeSpec[] = Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      host: options.hosts?.[i] ?? '127.0.0.1',
      port: options.basePort + 2 * i,
      controllerPort: options.basePort + 2 * i + 1,
      ...(saslSslBase === undefined ? {} : { saslSslPort: saslSslBase + i }),
      ...(sslBase === undefined ? {} : { sslPort: sslBase + i }),
      logDir: path.join(options.dir, `node-${i + 1}`, 'data'),
    }));
    for (const node of nodes) {
      for (const port of [node.port, node.controllerPort, node.saslSslPort, node.sslPort]) {
        if (port === undefined) continue;
        if (await isPortOpen(port, node.host)) {
          throw new Error(
            `port ${port} on ${node.host} is already in use; stop what runs there, or point KAFKA_BROKERS at an existing cluster`,
          );
        }
      }
    }
    const libs = await ensureKafkaJars(log);
    const previous = options.keepData ? readState(options.dir) : undefined;
    const reuse = previous !== undefined && sameLayout(previous.nodes, nodes) && nodes.every((n) => formatted(n));
    if (!reuse) rmSync(options.dir, { recursive: true, force: true });
    mkdirSync(options.dir, { recursive: true });
    const clusterId = reuse ? previous.clusterId : newClusterId();
    const hasTls = saslSslBase !== undefined || sslBase !== undefined;
    // SCRAM users live in the cluster's metadata: a cluster started again on its data keeps its password.
    const security = hasTls
      ? makeSecurity(options.dir, nodes, reuse ? previous.security?.password : undefined)
      : undefined;
    const state: ClusterState = {
      clusterId,
      libs,
      heapMb: options.heapMb ?? 512,
      ...(security ? { security: security.client } : {}),
      nodes: nodes.map((node) => ({
        ...node,
        pid: 0,
        launchPrefix: options.launchPrefix?.(node.id) ?? [],
        logFile: path.join(options.dir, `node-${node.id}`, 'server.log'),
        configFile: path.join(options.dir, `node-${node.id}`, 'server.properties'),
      })),
    };
    for (const node of state.nodes) {
      mkdirSync(path.dirname(node.configFile), { recursive: true });
      writeFileSync(node.configFile, brokerProperties(node, nodes, security?.broker));
    }
    const started = Date.now();
    if (!reuse) {
      log(`formatting ${nodes.length} KRaft node(s), cluster id ${clusterId}`);
      await Promise.all(state.nodes.map((node) => formatNode(state, node)));
    }
    const cluster = new LocalKafkaCluster(options.dir, state, log);
    for (const node of state.nodes) cluster.spawnNode(node);
    cluster.saveState();
    try {
      await cluster.waitReady(120_000);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    log(`Kafka ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${cluster.bootstrapServers.join(',')}`);
    return cluster;
  }

  /** Attaches to a cluster another process started in `dir`. */
  static attach(dir: string, log: (line: string) => void = () => {}): LocalKafkaCluster {
    const state = readState(dir);
    if (!state) throw new Error(`no local Kafka cluster state in ${dir}`);
    return new LocalKafkaCluster(dir, state, log);
  }

  /** Kills every node recorded in `dir`'s state file that is still running. */
  static async stopLeftovers(dir: string): Promise<void> {
    const state = readState(dir);
    if (!state) return;
    await Promise.all(
      state.nodes.filter((node) => node.pid > 0 && isKafkaProcess(node.pid)).map((node) => terminate(node.pid, 10_000)),
    );
  }

  /** `host:port` of every node, for `KAFKA_BROKERS`. */
  get bootstrapServers(): string[] {
    return this.state.nodes.map((node) => `${node.host}:${node.port}`);
  }

  /** `host:port` of every node's SASL_SSL listener. */
  get saslSslServers(): string[] {
    return this.state.nodes.map((node) => {
      if (node.saslSslPort === undefined)
        throw new Error('this cluster has no SASL_SSL listener (tlsListeners.saslSsl)');
      return `${node.host}:${node.saslSslPort}`;
    });
  }

  /** `host:port` of every node's SSL (mTLS) listener. */
  get sslServers(): string[] {
    return this.state.nodes.map((node) => {
      if (node.sslPort === undefined) throw new Error('this cluster has no SSL listener (tlsListeners.ssl)');
      return `${node.host}:${node.sslPort}`;
    });
  }

  /** The CA, client certificate and SASL user of the TLS listeners; undefined without them. */
  get security(): LocalKafkaSecurity | undefined {
    return this.state.security;
  }

  /** Node ids, from 1. */
  get nodeIds(): number[] {
    return this.state.nodes.map((node) => node.id);
  }

  /** The pid of a running node. */
  pidOf(nodeId: number): number {
    return this.node(nodeId).pid;
  }

  /** Whether a node's process is running (it may be paused). */
  isRunning(nodeId: number): boolean {
    const pid = this.node(nodeId).pid;
    return pid > 0 && isAlive(pid);
  }

  /** Stops one node cleanly (SIGTERM: it hands over leadership first). */
  async stopBroker(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    await terminate(node.pid, 30_000);
  }

  /** Kills one node at once (SIGKILL): no hand-over, as in a crash. */
  async killBroker(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    signal(node.pid, 'SIGKILL');
    await waitForExit(node.pid, 10_000);
  }

  /**
   * Freezes one node (SIGSTOP): its process and sockets stay, it answers
   * nothing. Resolves once every thread of the JVM has stopped (the signal
   * reaches them one by one, several milliseconds apart).
   */
  async pauseBroker(nodeId: number): Promise<void> {
    const pid = this.node(nodeId).pid;
    signal(pid, 'SIGSTOP');
    await waitAllThreadsStopped(pid, 5_000);
  }

  /** Unfreezes a paused node (SIGCONT). */
  resumeBroker(nodeId: number): void {
    signal(this.node(nodeId).pid, 'SIGCONT');
  }

  /** Starts a stopped or killed node again, with its data, and waits until the cluster has every node. */
  async startBroker(nodeId: number, timeoutMillis = 60_000): Promise<void> {
    const node = this.node(nodeId);
    if (node.pid > 0 && isAlive(node.pid)) throw new Error(`node ${nodeId} is still running (pid ${node.pid})`);
    this.spawnNode(node);
    this.saveState();
    const deadline = Date.now() + timeoutMillis;
    await this.waitNodeAnswers(node, timeoutMillis);
    await this.waitReady(Math.max(1_000, deadline - Date.now()));
  }

  /**
   * The controller may still list a killed node as registered until its session
   * expires, so a restarted node counts as up only once it answers a metadata
   * request itself.
   */
  private async waitNodeAnswers(node: NodeState, timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    const kafka = new Kafka({
      clientId: 'herald-local-kafka',
      brokers: [`${node.host}:${node.port}`],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 3_000,
      retry: { retries: 0 },
    });
    while (Date.now() < deadline) {
      if (!isAlive(node.pid)) throw new Error(`Kafka node ${node.id} exited during start-up; see ${node.logFile}`);
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.some((broker) => broker.nodeId === node.id)) return;
      } catch {
        // not up yet
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`Kafka node ${node.id} did not answer within ${timeoutMillis} ms`);
  }

  /**
   * Resolves once every node is registered with the controller and a topic
   * with one replica per node gets a leader for every partition.
   */
  async waitReady(timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    const kafka = new Kafka({
      clientId: 'herald-local-kafka',
      brokers: this.bootstrapServers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      retry: { retries: 0 },
    });
    let lastError: unknown;
    while (Date.now() < deadline) {
      for (const node of this.state.nodes) {
        if (node.pid > 0 && !isAlive(node.pid)) {
          throw new Error(`Kafka node ${node.id} exited during start-up; see ${node.logFile}`);
        }
      }
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === this.state.nodes.length) {
          const probe = `__herald_ready_${Date.now()}`;
          await admin.createTopics({
            topics: [
              { topic: probe, numPartitions: this.state.nodes.length, replicationFactor: this.state.nodes.length },
            ],
            waitForLeaders: true,
            timeout: 10_000,
          });
          await admin.deleteTopics({ topics: [probe], timeout: 10_000 }).catch(() => undefined);
          return;
        }
        lastError = new Error(`${cluster.brokers.length} of ${this.state.nodes.length} brokers registered`);
      } catch (error) {
        lastError = error;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`Kafka not ready after ${timeoutMillis} ms: ${String(lastError)}`);
  }

  /** Stops every node (SIGTERM, then SIGKILL after 15 s). Data stays unless `removeData`. */
  async stop(options: { removeData?: boolean } = {}): Promise<void> {
    await Promise.all(this.state.nodes.filter((node) => node.pid > 0).map((node) => terminate(node.pid, 15_000)));
    for (const node of this.state.nodes) node.pid = 0;
    if (options.removeData) rmSync(this.dir, { recursive: true, force: true });
    else this.saveState();
  }

  private node(nodeId: number): NodeState {
    const node = this.state.nodes.find((n) => n.id === nodeId);
    if (!node) throw new Error(`no Kafka node ${nodeId}; nodes are ${this.nodeIds.join(', ')}`);
    return node;
  }

  private spawnNode(node: NodeState): void {
    const out = openSync(node.logFile, 'a');
    const [command, ...args] = [
      ...node.launchPrefix,
      javaBinary(),
      ...jvmArgs(this.state),
      'kafka.Kafka',
      node.configFile,
    ];
    const child = spawn(command!, args, { stdio: ['ignore', out, out] });
    closeSync(out);
    if (child.pid === undefined) throw new Error('could not start java; is a JDK 17+ installed?');
    child.on('error', (error) => this.log(`Kafka node ${node.id}: ${error.message}`));
    // Never let a broker keep the Node process alive, nor die with it silently.
    child.unref();
    node.pid = child.pid;
    this.log(`Kafka node ${node.id} started, pid ${node.pid}, port ${node.port}`);
  }

  private saveState(): void {
    writeFileSync(path.join(this.dir, stateFileName), JSON.stringify(this.state, null, 2));
  }
}

function readState(dir: string): ClusterState | undefined {
  const file = path.join(dir, stateFileName);
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
  // State files written before nodes had an address and a launch prefix: they were on loopback, as is.
  for (const node of state.nodes as Array<Partial<NodeState>>) {
    node.host ??= '127.0.0.1';
    node.launchPrefix ??= [];
  }
  return state;
}

function sameLayout(a: NodeSpec[], b: NodeSpec[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (node, i) =>
        node.host === b[i]?.host &&
        node.port === b[i]?.port &&
        node.logDir === b[i]?.logDir &&
        // A cluster formatted without SCRAM users cannot serve a SASL listener, nor the other way round.
        node.saslSslPort === b[i]?.saslSslPort &&
        node.sslPort === b[i]?.sslPort,
    )
  );
}

const saslUser = 'herald';

/** Fresh certificates, and the SASL user: a new password unless the cluster's data already holds one. */
function makeSecurity(
  dir: string,
  nodes: NodeSpec[],
  password = randomBytes(18).toString('hex'),
): { client: LocalKafkaSecurity; broker: BrokerTls } {
  const tlsDir = path.join(dir, 'tls');
  const certificates = makeTestCertificates(
    tlsDir,
    nodes.map((node) => node.host),
  );
  const passwordFile = path.join(tlsDir, 'sasl-password');
  writeFileSync(passwordFile, password, { mode: 0o600 });
  return {
    client: {
      caFile: certificates.caFile,
      clientCertificateFile: certificates.clientCertificateFile,
      clientKeyFile: certificates.clientKeyFile,
      clientKeyPassword: certificates.clientKeyPassword,
      username: saslUser,
      password,
      passwordFile,
    },
    broker: {
      keyStoreFile: certificates.brokerKeyStoreFile,
      trustStoreFile: certificates.caFile,
      username: saslUser,
      password,
    },
  };
}

function formatted(node: NodeSpec): boolean {
  return existsSync(path.join(node.logDir, 'meta.properties'));
}

/** A random KRaft cluster id: 16 bytes, URL-safe base64, as `kafka-storage random-uuid` prints. */
function newClusterId(): string {
  // Like Kafka's own Uuid, never one starting with "-": command lines would read it as an option.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function jvmArgs(state: ClusterState): string[] {
  return [
    `-Xms${Math.min(256, state.heapMb)}m`,
    `-Xmx${state.heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${path.join(kafkaDeployDir, 'log4j2.properties')}`,
    '-cp',
    `${state.libs}/*`,
  ];
}

async function formatNode(state: ClusterState, node: NodeState): Promise<void> {
  const child = spawn(
    javaBinary(),
    [
      ...jvmArgs(state),
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${state.clusterId}`,
      '-c',
      node.configFile,
      // The SASL user, for both SCRAM mechanisms, written into the metadata log from the start.
      ...(state.security
        ? ['SCRAM-SHA-512', 'SCRAM-SHA-256'].flatMap((mechanism) => [
            '--add-scram',
            `${mechanism}=[name=${state.security!.username},password=${state.security!.password}]`,
          ])
        : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`formatting Kafka node ${node.id} failed (exit ${code}): ${output.trim()}`);
}

async function waitAllThreadsStopped(pid: number, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (Date.now() < deadline) {
    let running = 0;
    try {
      for (const thread of readdirSync(`/proc/${pid}/task`)) {
        const state = /State:\s+(\S)/.exec(readFileSync(`/proc/${pid}/task/${thread}/status`, 'utf8'))?.[1];
        if (state !== 'T' && state !== 't') running++;
      }
    } catch {
      return; // gone, or no /proc: nothing more to wait for
    }
    if (running === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Guards against killing an unrelated process that reused a recorded pid. */
function isKafkaProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
  } catch {
    return false;
  }
}
