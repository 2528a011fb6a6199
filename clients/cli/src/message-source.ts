import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { UsageError } from './exit-codes';

/** One message to publish: its text and where it came from (line number, or argument position). */
export interface SourceLine {
  line: number;
  text: string;
}

/** Where `herald publish` takes its messages. */
export interface MessageSource {
  /** The messages, in order; blank lines are skipped. */
  lines: AsyncIterable<SourceLine>;
  /** How many lines there are, when known beforehand (arguments, a file); not for stdin. */
  total: number | undefined;
  /** What it is, for people: `3 arguments`, `orders.txt`, `stdin`. */
  description: string;
  /** Where a line came from, for error messages: `argument 2`, `orders.txt line 7`. */
  where(line: number): string;
}

/**
 * The messages of `herald publish`: its arguments if any, else the lines of
 * `file`, else (or when `file` is `-`) the lines of stdin, read as they come
 * so that an endless pipe is published as it flows.
 *
 * @throws UsageError when both arguments and a file are given, or the file cannot be read
 */
export async function messageSource(
  args: string[],
  file: string | undefined,
  stdin: NodeJS.ReadableStream,
): Promise<MessageSource> {
  if (args.length > 0 && file !== undefined) throw new UsageError('give messages as arguments or --file, not both');
  if (args.length > 0) {
    return {
      lines: (async function* () {
        for (const [i, text] of args.entries()) if (text !== '') yield { line: i + 1, text };
      })(),
      total: args.filter((text) => text !== '').length,
      description: `${args.length} argument${args.length === 1 ? '' : 's'}`,
      where: (line) => `argument ${line}`,
    };
  }
  if (file === undefined || file === '-') {
    return { lines: linesOf(stdin), total: undefined, description: 'stdin', where: (line) => `stdin line ${line}` };
  }
  const total = await countLines(file);
  return { lines: linesOf(createReadStream(file)), total, description: file, where: (line) => `${file} line ${line}` };
}

/** The non-blank lines of a stream, numbered from 1 (CRLF endings are handled). */
export async function* linesOf(input: NodeJS.ReadableStream): AsyncGenerator<SourceLine> {
  const reader = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of reader) {
      line++;
      if (text !== '') yield { line, text };
    }
  } finally {
    reader.close();
  }
}

/** Non-blank lines in a file, read once before publishing so that the progress bar has a total. */
async function countLines(file: string): Promise<number> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    let count = 0;
    for await (const text of handle.readLines()) if (text !== '') count++;
    return count;
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  } finally {
    await handle.close();
  }
}
