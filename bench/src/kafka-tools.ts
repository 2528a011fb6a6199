import { spawn } from 'node:child_process';
import path from 'node:path';
import { kafkaDeployDir } from '@herald/local-kafka';
import type { MeteredProcess } from './bench-environment';
import { type MeteredInterval, ProcessMeter } from './process-stats';

/** A tool that has not finished by then is killed: a stuck JVM must not stall the run. */
const toolTimeoutMillis = 300_000;

/** A Kafka tool running in its own JVM. */
export interface RunningTool {
  pid: number;
  /** Resolves with everything it printed once it exits with 0; rejects otherwise. */
  output: Promise<string>;
  kill: () => void;
}

/**
 * Starts one of Kafka's own tools (`org.apache.kafka.tools.<toolClass>`) from
 * the jars in `kafkaLibs`, as the `kafka-*-perf-test` scripts run them.
 */
export async function startKafkaTool(kafkaLibs: string, toolClass: string, toolArgs: string[]): Promise<RunningTool> {
  const args = [
    '-Xmx512m',
    `-Dlog4j2.configurationFile=${path.join(kafkaDeployDir, 'log4j2.properties')}`,
    '-cp',
    `${kafkaLibs}/*`,
    `org.apache.kafka.tools.${toolClass}`,
    ...toolArgs,
  ];
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), toolTimeoutMillis);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${toolClass} exited with ${code ?? signal}:\n${output.slice(-2000)}`));
    });
  });
  // Without a pid the spawn failed, and `output` rejects with why (java missing...).
  if (child.pid === undefined) await output;
  return { pid: child.pid!, output, kill: () => child.kill('SIGKILL') };
}

/**
 * Waits for a tool to finish, metering it as the client beside `processes`
 * (the services and Kafka) from now on: started right after the spawn, its CPU
 * time includes the JVM's start. If metering fails, the tool is killed.
 */
export async function meterTool(
  tool: RunningTool,
  processes: (client: MeteredProcess) => MeteredProcess[],
): Promise<MeteredInterval & { output: string }> {
  let meter: ProcessMeter;
  try {
    meter = new ProcessMeter(processes({ role: 'client', pid: tool.pid }));
    meter.begin();
  } catch (error) {
    tool.kill();
    await tool.output.catch(() => undefined);
    throw error;
  }
  const output = await tool.output;
  return { ...meter.end(), output };
}
