/** Where a command writes: stdout or stderr, or a test's buffer. */
export interface Writer {
  write(text: string): unknown;
}

/** What the CLI sees of the process, so that tests can give it fakes. */
export interface Terminal {
  stdout: Writer;
  stderr: Writer;
  /** Where `herald publish` reads messages when given no argument or file. */
  stdin: NodeJS.ReadableStream;
  /** Whether stdin is a terminal (a person typing) rather than a pipe or file. */
  stdinIsTTY: boolean;
  /** Whether stdout is a terminal: progress bars are drawn only then. */
  stdoutIsTTY: boolean;
  /** The stream progress bars are drawn on. */
  progressStream: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Calls `handler` on Ctrl-C (instead of exiting) until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
}

/** The real process's terminal. */
export function processTerminal(): Terminal {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stdinIsTTY: process.stdin.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    progressStream: process.stderr,
    env: process.env,
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
  };
}
