import { execFile, spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { promisify } from 'node:util';
import { isAlive } from '@herald/local-kafka';

const run = promisify(execFile);

/**
 * The network namespace the runner started in, passed to its copy: the copy
 * is in one of its own only if its namespace differs (an inherited variable
 * alone could not tell, and a mistake would build the network on the host).
 */
const hostNamespaceVariable = 'HERALD_CHAOS_HOST_NETNS';
const namespacePrefix = 'herald-chaos-';
const bridge = 'hchaos0';
const subnet = '10.213.0';

/**
 * The network a `make chaos` run makes for itself so that one broker can be
 * cut off for real (scenario 6): every broker in a network namespace of its
 * own, joined by a veth pair to a bridge in the runner's namespace, which is
 * itself a namespace the run made (see {@link runInOwnNetworkNamespace}).
 * Cutting a broker off sets its veth down: its packets go nowhere, in both
 * directions, to the other brokers and to every client, while its process
 * and its open sockets stay, as in a real partition.
 */
export class BrokerNetwork {
  private constructor(
    private readonly namespaces: string[],
    /** Address of each broker, node 1 first. */
    readonly hosts: string[],
  ) {}

  /** Why this run cannot make the network, or undefined when it can. */
  static unavailableReason(): string | undefined {
    if (process.getuid?.() !== 0) return 'network namespaces need root';
    if (!inOwnNamespace()) return 'the runner is not in a network namespace of its own';
    return undefined;
  }

  /** Makes a namespace, an address and a veth for each of `brokers` nodes. */
  static async create(brokers: number): Promise<BrokerNetwork> {
    await removeLeftoverNamespaces();
    const network = new BrokerNetwork([], []);
    try {
      await network.build(brokers);
    } catch (error) {
      await network.remove();
      throw error;
    }
    return network;
  }

  private async build(brokers: number): Promise<void> {
    await ip('link', 'add', 'name', bridge, 'type', 'bridge');
    await ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    await ip('link', 'set', 'dev', bridge, 'up');
    for (let id = 1; id <= brokers; id++) {
      const namespace = `${namespacePrefix}${process.pid}-${id}`;
      const host = `${subnet}.${10 + id}`;
      await ip('netns', 'add', namespace);
      this.namespaces.push(namespace);
      await ip('link', 'add', 'name', vethOf(id), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace);
      await ip('link', 'set', 'dev', vethOf(id), 'master', bridge, 'up');
      await ip('-n', namespace, 'addr', 'add', `${host}/24`, 'dev', 'eth0');
      await ip('-n', namespace, 'link', 'set', 'dev', 'eth0', 'up');
      await ip('-n', namespace, 'link', 'set', 'dev', 'lo', 'up');
      this.hosts.push(host);
    }
  }

  /** The command that starts a process of node `id` inside its namespace (exec in place: same pid). */
  launchPrefix(id: number): string[] {
    return ['ip', 'netns', 'exec', this.namespaceOf(id)];
  }

  /** Cuts node `id` off from every other node and every client. */
  async cut(id: number): Promise<void> {
    this.namespaceOf(id);
    await ip('link', 'set', 'dev', vethOf(id), 'down');
  }

  /** Joins node `id` to the network again. */
  async heal(id: number): Promise<void> {
    this.namespaceOf(id);
    await ip('link', 'set', 'dev', vethOf(id), 'up');
  }

  /** Removes the namespaces (after the brokers in them stopped). */
  async remove(): Promise<void> {
    this.namespaces.splice(0);
    await BrokerNetwork.removeOwn();
  }

  /**
   * Removes whatever network this process made, also when it was stopped
   * before {@link create} returned: its namespaces are named after its pid.
   */
  static async removeOwn(): Promise<void> {
    if (!inOwnNamespace()) return; // nothing was made, and the host's network is not ours to touch
    await removeNamespaces((owner) => owner === process.pid);
    await ip('link', 'del', 'dev', bridge).catch(() => undefined);
  }

  private namespaceOf(id: number): string {
    const namespace = this.namespaces[id - 1];
    if (!namespace) throw new Error(`no broker ${id} in the chaos network`);
    return namespace;
  }
}

/**
 * Runs this process again inside a new network namespace (its own loopback,
 * nothing else) and resolves with that copy's exit code; resolves undefined
 * when it is already inside one, or cannot make one (not root, no `unshare` or `ip`),
 * and this process should go on itself. Callers with nothing to gain from the
 * namespace (an external Kafka) do not call it: only loopback is reachable inside. Everything the run starts then lives
 * in namespaces it made: the machine's own network is never touched.
 */
export async function runInOwnNetworkNamespace(log: (line: string) => void): Promise<number | undefined> {
  if (inOwnNamespace() || process.getuid?.() !== 0) return undefined;
  try {
    // The probe needs what the copy and the network need: unshare, ip, and the right to use them.
    await run('unshare', ['--net', 'ip', 'link', 'set', 'dev', 'lo', 'up']);
  } catch (error) {
    log(`no network namespace for the run (${(error as Error).message.split('\n')[0]}); staying on loopback`);
    return undefined;
  }
  const child = spawn(
    'unshare',
    [
      '--net',
      '--',
      'sh',
      '-c',
      'ip link set dev lo up && exec "$0" "$@"',
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, [hostNamespaceVariable]: ownNamespace() } },
  );
  // Ctrl-C reaches the copy too (same process group); it stops what it started and exits. A SIGTERM
  // is passed on, in case it was sent to this process alone (the copy ignores a repeat).
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) => {
    child.on('error', (error) => {
      log(`could not start the run in its namespace: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

function ownNamespace(): string {
  return readlinkSync('/proc/self/ns/net');
}

function inOwnNamespace(): boolean {
  const host = process.env[hostNamespaceVariable];
  try {
    return host !== undefined && ownNamespace() !== host;
  } catch {
    return false;
  }
}

function vethOf(id: number): string {
  return `hchaos-b${id}`;
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}

/** Namespaces of earlier runs whose runner is gone, and any left with this pid (a reused one). */
async function removeLeftoverNamespaces(): Promise<void> {
  await removeNamespaces((owner) => owner === process.pid || !isAlive(owner));
}

/** Removes the namespaces of this suite whose owner pid `matches`. */
async function removeNamespaces(matches: (owner: number) => boolean): Promise<void> {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return;
  }
  for (const name of names) {
    const owner = new RegExp(`^${namespacePrefix}(\\d+)-\\d+$`).exec(name)?.[1];
    if (owner !== undefined && matches(Number(owner))) await ip('netns', 'del', name).catch(() => undefined);
  }
}
