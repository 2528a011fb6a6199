import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, isAlive, repoRoot, signal, waitForExit } from '@herald/local-kafka';
import { checkHealth, probeCredentials } from './health-probe';

/** Herald's three services, by their folder names under `services/`. */
export type ServiceName = 'publisher' | 'subscriber-registry' | 'dispatcher';

/** Options of {@link ServiceProcess.start}. */
export interface ServiceProcessOptions {
  service: ServiceName;
  /** gRPC port the service listens on (its `*_PORT` variable is set from it). */
  port: number;
  /** Port of its /metrics endpoint (its `*_METRICS_PORT`). @defaultValue a free port, kept across restarts */
  metricsPort?: number;
  /** Environment on top of the current one. */
  env: Record<string, string>;
  /** File for the service's log lines. */
  logFile: string;
  /** Time to reach SERVING. @defaultValue 60 s */
  readyTimeoutMillis?: number;
}

const portVariable: Record<ServiceName, string> = {
  publisher: 'PUBLISHER_PORT',
  'subscriber-registry': 'REGISTRY_PORT',
  dispatcher: 'DISPATCHER_PORT',
};

const metricsPortVariable: Record<ServiceName, string> = {
  publisher: 'PUBLISHER_METRICS_PORT',
  'subscriber-registry': 'REGISTRY_METRICS_PORT',
  dispatcher: 'DISPATCHER_METRICS_PORT',
};

const running = new Set<ServiceProcess>();

/**
 * A service that exited, or never answered SERVING, while starting. The
 * message carries the end of its log (for test output); `summary` says it in
 * one line, for people (`make run`).
 */
export class ServiceStartError extends Error {
  constructor(
    message: string,
    /** One line: the service, and the last error its log recorded. */
    readonly summary: string,
    readonly logFile: string,
  ) {
    super(message);
    this.name = 'ServiceStartError';
  }
}

/**
 * One Herald service running as its own Node.js process, from its built entry
 * point. Every instance is remembered, so that a test run can kill what a
 * failed test left behind ({@link ServiceProcess.killAll}).
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exitCode: number | null | undefined;
  private metricsPort: number | undefined;

  private constructor(readonly options: ServiceProcessOptions) {
    this.metricsPort = options.metricsPort;
  }

  /** Starts the service and resolves once its health check answers SERVING. */
  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const service = new ServiceProcess(options);
    await service.start();
    return service;
  }

  /** Kills (SIGKILL) every service started by this process that is still running. */
  static killAll(): void {
    for (const service of running) service.kill();
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${this.options.port}`;
  }

  /** `http://127.0.0.1:<port>/metrics`, once started. */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get name(): ServiceName {
    return this.options.service;
  }

  /** Whether the process is running (it may be paused). */
  get running(): boolean {
    return this.pid > 0 && this.exitCode === undefined && isAlive(this.pid);
  }

  /** Starts the process again (after a stop or kill) and waits for SERVING. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.options.service} is already running (pid ${this.pid})`);
    const entry = path.join(repoRoot, 'services', this.options.service, 'dist', 'src', 'main.js');
    mkdirSync(path.dirname(this.options.logFile), { recursive: true });
    const out = openSync(this.options.logFile, 'a');
    this.exitCode = undefined;
    this.metricsPort ??= await freePort();
    const child = spawn(process.execPath, [entry], {
      env: {
        ...process.env,
        ...this.options.env,
        [portVariable[this.options.service]]: String(this.options.port),
        [metricsPortVariable[this.options.service]]: String(this.metricsPort),
      },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.child = child;
    running.add(this);
    child.on('exit', (code) => {
      this.exitCode = code;
      running.delete(this);
    });
    await this.waitServing(this.options.readyTimeoutMillis ?? 60_000);
  }

  /** Resolves once the health check answers SERVING; rejects if the process exits first. */
  async waitServing(timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    let status = '';
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new ServiceStartError(
          `${this.options.service} exited with code ${this.exitCode}:\n${this.logTail()}`,
          `${this.options.service} did not start: ${this.lastLoggedError() ?? `exited with code ${this.exitCode}`}`,
          this.options.logFile,
        );
      }
      status = await checkHealth(this.address, '', 1_000, probeCredentials({ ...process.env, ...this.options.env }));
      if (status === 'SERVING') return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new ServiceStartError(
      `${this.options.service} not SERVING after ${timeoutMillis} ms (last: ${status}):\n${this.logTail()}`,
      `${this.options.service} not SERVING after ${timeoutMillis / 1000} s: ${this.lastLoggedError() ?? status}`,
      this.options.logFile,
    );
  }

  /** Stops the service, changes its environment by `overlay` (an empty value removes a variable), and starts it again. */
  async restartWith(overlay: Record<string, string>): Promise<void> {
    await this.stop();
    for (const [name, value] of Object.entries(overlay)) {
      if (value === '') delete this.options.env[name];
      else this.options.env[name] = value;
    }
    await this.start();
  }

  /** SIGTERM and wait for the exit; SIGKILL after `graceMillis`. Resolves with the exit code. */
  async stop(graceMillis = 20_000): Promise<number | null | undefined> {
    if (!this.running) return this.exitCode;
    signal(this.pid, 'SIGCONT');
    signal(this.pid, 'SIGTERM');
    if (!(await waitForExit(this.pid, graceMillis))) this.kill();
    await waitForExit(this.pid, 5_000);
    return this.exitCode;
  }

  /** SIGKILL: the process dies at once, as in a crash. */
  kill(): void {
    if (this.pid > 0) signal(this.pid, 'SIGKILL');
  }

  /** SIGSTOP: frozen, connections open, answering nothing. */
  pause(): void {
    signal(this.pid, 'SIGSTOP');
  }

  /** SIGCONT after {@link ServiceProcess.pause}. */
  resume(): void {
    signal(this.pid, 'SIGCONT');
  }

  /** Waits for the process to exit by itself. */
  async waitExit(timeoutMillis: number): Promise<number | null | undefined> {
    await waitForExit(this.pid, timeoutMillis);
    return this.exitCode;
  }

  /** The last error of the service's log, in one line ({@link lastErrorOfLog}). */
  lastLoggedError(): string | undefined {
    return lastErrorOfLog(this.logTail(200));
  }

  /** What the service's log says is out of its reach now ({@link dependenciesDownInLog}). */
  dependenciesDown(): string[] {
    return dependenciesDownInLog(this.logTail(2_000));
  }

  /** The last lines of the service's log, for error messages. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/**
 * The last error a service's log records, in one line: the message of its
 * last `error` or `fatal` JSON line (as libs/logging writes them) with its
 * error's message, or Node.js's `Error: ...` line when the process died of an
 * uncaught exception after it. Undefined when there is none.
 */
export function lastErrorOfLog(log: string): string | undefined {
  for (const line of log.split('\n').reverse()) {
    let entry: { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // Not a log line: Node.js's report of an uncaught exception prints `Error: ...` above its stack.
      if (/^\w*Error(?: \[\w+\])?: /.test(line)) return line.trim();
      continue;
    }
    if (entry.level !== 'error' && entry.level !== 'fatal' && entry.level !== 50 && entry.level !== 60) continue;
    const cause = typeof entry.err?.message === 'string' ? entry.err.message : undefined;
    const message = typeof entry.msg === 'string' ? entry.msg : undefined;
    if (message && cause && !message.includes(cause)) return `${message}: ${cause}`;
    return message ?? cause;
  }
  return undefined;
}

/**
 * The dependencies (`kafka`, `registry`) a service's log last reported down
 * and not back since (its `dependency down` and `dependency back` lines).
 */
export function dependenciesDownInLog(log: string): string[] {
  const down = new Set<string>();
  for (const line of log.split('\n')) {
    if (!line.includes('"dependency ')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; dependency?: unknown };
      if (typeof entry.dependency !== 'string') continue;
      if (entry.msg === 'dependency down') down.add(entry.dependency);
      else if (entry.msg === 'dependency back') down.delete(entry.dependency);
    } catch {
      // not a log line
    }
  }
  return [...down];
}

// A test runner that dies of an exception must not leave services behind.
process.on('exit', () => ServiceProcess.killAll());
