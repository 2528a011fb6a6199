/**
 * How long to wait between attempts. Every retry loop in Herald (SDK, CLI,
 * services, chaos) uses this one helper, so that they all back off the same way.
 */
export interface BackoffOptions {
  /** The ceiling of the first wait. @defaultValue 100 ms */
  initialMillis?: number;
  /** No wait is longer. @defaultValue 5 s */
  maxMillis?: number;
  /** How much the ceiling grows per attempt. @defaultValue 2 */
  multiplier?: number;
  /**
   * `full` (the default): uniformly random between 0 and the exponential
   * ceiling, so that many clients failing together do not retry together.
   * `decorrelated`: random between `initialMillis` and three times the previous
   * wait (needs the stateful {@link Backoff}). `none`: the ceiling itself, for
   * a lone loop where spreading does not matter.
   */
  jitter?: 'full' | 'decorrelated' | 'none';
}

/** A source of uniform numbers in [0, 1): `Math.random` unless a test injects one. */
export type Random = () => number;

const defaults = { initialMillis: 100, maxMillis: 5_000, multiplier: 2 };

/** The exponential ceiling before retry number `attempt` (1-based): initial × multiplier^(attempt−1), capped. */
export function backoffCeilingMillis(options: BackoffOptions, attempt: number): number {
  const initial = options.initialMillis ?? defaults.initialMillis;
  const max = options.maxMillis ?? defaults.maxMillis;
  const multiplier = options.multiplier ?? defaults.multiplier;
  // The exponent is bounded so that a long outage does not overflow to Infinity (or NaN with 0 × Infinity).
  const exponent = Math.max(0, Math.min(attempt - 1, 64));
  return Math.min(max, initial * multiplier ** exponent);
}

/**
 * The wait before retry number `attempt` (1-based), for loops that only count
 * attempts. Decorrelated jitter needs the previous wait: it is treated as full
 * here; use {@link Backoff} for it.
 */
export function backoffMillis(options: BackoffOptions, attempt: number, random: Random = Math.random): number {
  const ceiling = backoffCeilingMillis(options, attempt);
  return options.jitter === 'none' ? ceiling : random() * ceiling;
}

/** A backoff sequence with its own attempt count; `reset()` after a success. */
export class Backoff {
  private attempt = 0;
  private previous: number;

  constructor(
    private readonly options: BackoffOptions = {},
    private readonly random: Random = Math.random,
  ) {
    this.previous = options.initialMillis ?? defaults.initialMillis;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The wait before the next attempt. */
  next(): number {
    this.attempt++;
    if (this.options.jitter !== 'decorrelated') return backoffMillis(this.options, this.attempt, this.random);
    const initial = this.options.initialMillis ?? defaults.initialMillis;
    const max = this.options.maxMillis ?? defaults.maxMillis;
    const upper = Math.max(initial, this.previous * 3);
    this.previous = Math.min(max, initial + this.random() * (upper - initial));
    return this.previous;
  }

  reset(): void {
    this.attempt = 0;
    this.previous = this.options.initialMillis ?? defaults.initialMillis;
  }
}
