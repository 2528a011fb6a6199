import Table from 'cli-table3';
import type { Writer } from './terminal';

/**
 * Writes a command's results: one JSON object per line with `--json` (for
 * scripts and `jq`), readable tables and sentences otherwise.
 */
export class Output {
  constructor(
    private readonly writer: Writer,
    /** Whether `--json` was given. */
    readonly json: boolean,
  ) {}

  /** One result: `value` as a JSON line, or the text `render` makes. */
  item(value: unknown, render: () => string): void {
    this.writer.write(this.json ? `${JSON.stringify(value)}\n` : `${render()}\n`);
  }

  /** Many results: one JSON line each, or one table (or text) of all of them. */
  list<T>(items: readonly T[], toJson: (item: T) => unknown, render: (items: readonly T[]) => string): void {
    if (this.json) for (const item of items) this.writer.write(`${JSON.stringify(toJson(item))}\n`);
    else this.writer.write(`${render(items)}\n`);
  }

  /** A sentence for people (`Deleted topic "orders".`); nothing with `--json`, where `item` says it. */
  note(text: string): void {
    if (!this.json) this.writer.write(`${text}\n`);
  }
}

/** A table with a header row, without colours (so that it reads the same in a file or a pipe). */
export function renderTable(head: string[], rows: Array<Array<string | number>>): string {
  const table = new Table({ head, style: { head: [], border: [], compact: true } });
  table.push(...rows);
  return table.toString();
}

/** A two-column table of field names and values, for one topic or subscription. */
export function renderFields(fields: Array<[string, string | number]>): string {
  const table = new Table({ style: { head: [], border: [], compact: true } });
  table.push(...fields);
  return table.toString();
}
