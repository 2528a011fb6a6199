import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** The built `herald` executable, as npm links it. */
const heraldBin = path.join(__dirname, '..', '..', 'bin', 'herald.mjs');

/** What one `herald` run printed, and how it ended (`code` is null while it runs). */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From the start to the exit. */
  millis: number;
}

/** A `herald` child process: its output so far (filled as it comes), and its end. */
export interface CliRun {
  child: ChildProcess;
  output: CliResult;
  exited: Promise<CliResult>;
}

/**
 * `herald` run as child processes of a test, on the environment given
 * (endpoints from `HERALD_*` variables); {@link HeraldCli.killAll} ends those
 * still running when the suite ends.
 */
export class HeraldCli {
  env: NodeJS.ProcessEnv = process.env;
  private readonly running = new Set<ChildProcess>();

  /** Starts `herald <args>`; its stdin stays open for the test to write to or end. */
  start(args: string[]): CliRun {
    const started = Date.now();
    const child = spawn(process.execPath, [heraldBin, ...args], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.running.add(child);
    const output: CliResult = { code: null, stdout: '', stderr: '', millis: 0 };
    child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const exited = new Promise<CliResult>((resolve) =>
      child.on('close', (code) => {
        this.running.delete(child);
        output.code = code;
        output.millis = Date.now() - started;
        resolve(output);
      }),
    );
    return { child, output, exited };
  }

  /** Runs `herald <args>` to its end, with `input` on stdin. */
  run(args: string[], input = ''): Promise<CliResult> {
    const { child, exited } = this.start(args);
    child.stdin!.end(input);
    return exited;
  }

  killAll(): void {
    for (const child of this.running) child.kill('SIGKILL');
  }
}
