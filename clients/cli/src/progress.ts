import { Format, type Options, SingleBar } from 'cli-progress';

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Whether to draw at all: only for people (stdout a terminal, no `--json`). */
  enabled: boolean;
  stream: NodeJS.WritableStream;
  /** What is counted, e.g. `published` or `received`. */
  label: string;
  /** Draw only once the work has lasted this long, so that quick commands stay quiet. @defaultValue 1 s */
  delayMillis?: number;
}

/**
 * A progress bar for a long publish or pull, drawn by cli-progress on stderr,
 * cleared when done. With an unknown total (messages from stdin) it shows the
 * count and rate alone.
 */
export class Progress {
  private bar: SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;
  private value = 0;
  private total: number | undefined;
  private drawnAtMillis = 0;

  constructor(private readonly options: ProgressOptions) {}

  /** Starts counting; the bar appears after the delay if the work is still going. */
  start(total: number | undefined): void {
    this.total = total;
    if (!this.options.enabled) return;
    this.timer = setTimeout(() => this.draw(), this.options.delayMillis ?? 1_000);
    this.timer.unref();
  }

  /** Sets a total learnt after starting. */
  setTotal(total: number): void {
    this.total = total;
    this.bar?.setTotal(total);
  }

  increment(count = 1): void {
    this.value += count;
    // At most ten updates a second: cli-progress estimates the ETA over its last updates,
    // which must span a few seconds rather than a few messages.
    const now = Date.now();
    if (this.bar && now - this.drawnAtMillis >= 100) {
      this.drawnAtMillis = now;
      this.bar.update(this.value);
    }
  }

  /** Removes the bar. */
  stop(): void {
    clearTimeout(this.timer);
    this.bar?.update(this.value);
    this.bar?.stop();
    this.bar = undefined;
  }

  private draw(): void {
    const label = this.options.label;
    const format =
      this.total === undefined
        ? `${label} {value} messages | {duration_formatted}`
        : `${label} {bar} {percentage}% | {value}/{total} messages | {duration_formatted}, ETA {eta_formatted}`;
    this.bar = new SingleBar({
      format,
      stream: this.options.stream,
      clearOnComplete: true,
      hideCursor: true,
      barsize: 30,
      etaBuffer: 30,
      formatTime: formatEta,
    });
    this.bar.start(this.total ?? 0, this.value);
  }
}

/**
 * cli-progress's time format, but `--` for an ETA it cannot estimate yet
 * (nothing counted so far): it passes `INF` or `NULL` then, which its own
 * format pads into `NFs`.
 */
export function formatEta(time: number, options: Options, roundTo: number): string {
  // Typed as a number, but cli-progress passes its ETA's 'INF' and 'NULL' strings as they are.
  return typeof time === 'number' && Number.isFinite(time) ? Format.TimeFormat(time, options, roundTo) : '--';
}
