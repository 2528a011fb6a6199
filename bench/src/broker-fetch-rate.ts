import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { kafkaDeployDir } from '@herald/local-kafka';
import { brokerPorts, listeningPids } from './proc-sockets';

const run = promisify(execFile);

/**
 * Fetch requests the broker handled, all versions and clients (consumers and
 * followers alike): a Yammer meter whose `Count` only grows. One MBean per
 * request version in use, hence the pattern.
 */
export const fetchRequestsMBean = 'kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Fetch,*';

/** One line of JmxTool: when it read the MBeans, and the sum of the `Count`s it read. */
export interface CountSample {
  timeMillis: number;
  count: number;
}

/**
 * Reads the lines JmxTool prints in its default (`original`) format: a
 * header of quoted column names, `"time","<mbean>:Count",...`, then one line
 * of comma-separated values per poll, the time first (milliseconds since the
 * epoch, as no `--date-format` is given). Each poll becomes the sum of its
 * columns. Anything else (the "Trying to connect" line, warnings) is skipped.
 */
export class JmxToolOutput {
  private columns: number | undefined;
  private pending = '';
  readonly samples: CountSample[] = [];

  /** Feeds what the tool printed, in pieces of any size. */
  push(chunk: string): void {
    this.pending += chunk;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.line(line.trim());
  }

  private line(line: string): void {
    if (line.startsWith('"time"')) {
      // Quoted names hold commas of their own (`name=RequestsPerSec,request=Fetch,...`): count the quoted fields.
      this.columns = line.match(/"[^"]*"/g)?.length ?? 0;
      return;
    }
    if (this.columns === undefined) return;
    const values = line.split(',');
    if (values.length !== this.columns) return;
    const numbers = values.map(Number);
    if (numbers.some((value) => !Number.isFinite(value))) return;
    const [timeMillis, ...counts] = numbers;
    this.samples.push({ timeMillis: timeMillis!, count: counts.reduce((sum, value) => sum + value, 0) });
  }
}

/**
 * Requests per second between `fromMillis` and `toMillis`, from the first
 * sample at or after the start to the last one at or before the end (so the
 * rate covers only time inside the interval). Undefined without two samples
 * in it; a count that went down (a broker restarted) is no rate either.
 */
export function rateBetween(samples: readonly CountSample[], fromMillis: number, toMillis: number): number | undefined {
  const inside = samples.filter((sample) => sample.timeMillis >= fromMillis && sample.timeMillis <= toMillis);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (!first || !last || last.timeMillis <= first.timeMillis || last.count < first.count) return undefined;
  return ((last.count - first.count) * 1000) / (last.timeMillis - first.timeMillis);
}

/**
 * The JMX service URL of a running JVM's agent from `jcmd <pid> ManagementAgent.status`,
 * local connector preferred; undefined when the agent is disabled.
 */
export function agentUrl(status: string): string | undefined {
  const connections = status.split(/\n(?=Connection Type)/);
  const urlOf = (text: string) => /^URL\s*:\s*(\S+)/m.exec(text)?.[1];
  const local = connections.find((text) => /^Connection Type\s*:\s*local/m.test(text));
  return (local && urlOf(local)) ?? urlOf(status);
}

function jdkTool(name: string): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', name) : name;
}

/**
 * A JMX URL for a broker of this machine, by pid: the JVM's management agent,
 * started now with its local connector (loopback only, an ephemeral port) if
 * it is not running. The broker keeps running untouched; only root or the
 * broker's own user may attach.
 */
export async function brokerJmxUrl(pid: number): Promise<string> {
  const status = async () => (await run(jdkTool('jcmd'), [String(pid), 'ManagementAgent.status'])).stdout;
  const running = agentUrl(await status());
  if (running) return running;
  await run(jdkTool('jcmd'), [String(pid), 'ManagementAgent.start_local']);
  const started = agentUrl(await status());
  if (!started) throw new Error(`jcmd started no JMX agent in the broker (pid ${pid})`);
  return started;
}

/** The pids of the Kafka brokers behind `brokers` that run on this machine (as `kafka.Kafka`). */
export function localBrokerPids(brokers: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const port of brokerPorts(brokers)) {
    for (const pid of listeningPids(port)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka')) pids.add(pid);
      } catch {
        // gone
      }
    }
  }
  return [...pids];
}

/**
 * Samples every second, in each broker, the count of Fetch requests it
 * handled, with Kafka's own JmxTool (one JVM per broker, for as long as the
 * sampler runs), so that the fetch rate of any interval can be read from the
 * brokers' side. JmxTool resolves the MBean pattern once, at its start: start
 * it once the clients to watch have fetched, so that their request version exists.
 */
export class BrokerFetchSampler {
  private constructor(
    private readonly tools: Array<{ child: ChildProcess; output: JmxToolOutput; errors: string[] }>,
  ) {}

  /** Starts one JmxTool per broker pid and resolves once each has printed a first sample. */
  static async start(
    kafkaLibs: string,
    brokerPids: readonly number[],
    timeoutMillis = 30_000,
  ): Promise<BrokerFetchSampler> {
    const tools: Array<{ child: ChildProcess; output: JmxToolOutput; errors: string[] }> = [];
    const sampler = new BrokerFetchSampler(tools);
    try {
      for (const pid of brokerPids) {
        const url = await brokerJmxUrl(pid);
        const child = spawn(
          jdkTool('java'),
          [
            '-Xmx128m',
            `-Dlog4j2.configurationFile=${path.join(kafkaDeployDir, 'log4j2.properties')}`,
            '-cp',
            `${kafkaLibs}/*`,
            'org.apache.kafka.tools.JmxTool',
            '--jmx-url',
            url,
            '--object-name',
            fetchRequestsMBean,
            '--attributes',
            'Count',
            '--reporting-interval',
            '1000',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        const tool = { child, output: new JmxToolOutput(), errors: [] as string[] };
        tools.push(tool);
        child.stdout!.on('data', (chunk: Buffer) => tool.output.push(chunk.toString()));
        child.stderr!.on('data', (chunk: Buffer) => tool.errors.push(chunk.toString()));
        child.on('error', (error) => tool.errors.push(error.message));
      }
      const deadline = Date.now() + timeoutMillis;
      while (tools.some((tool) => tool.output.samples.length === 0)) {
        const exited = tools.find((tool) => tool.child.exitCode !== null || tool.child.signalCode !== null);
        if (exited) throw new Error(`JmxTool exited: ${exited.errors.join('').trim().slice(-500) || 'no output'}`);
        if (Date.now() > deadline) throw new Error(`JmxTool printed no sample within ${timeoutMillis} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return sampler;
    } catch (error) {
      sampler.stop();
      throw error;
    }
  }

  /** Fetch requests per second all brokers handled together between two times (`Date.now()`); undefined if unknown. */
  rate(fromMillis: number, toMillis: number): number | undefined {
    let total = 0;
    for (const tool of this.tools) {
      const rate = rateBetween(tool.output.samples, fromMillis, toMillis);
      if (rate === undefined) return undefined;
      total += rate;
    }
    return total;
  }

  stop(): void {
    for (const { child } of this.tools) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
