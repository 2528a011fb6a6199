import { Backoff, type BackoffOptions, type Random } from './backoff';
import { type Clock, systemClock } from './clock';

/** How {@link retry} repeats a failing operation. */
export interface RetryOptions extends BackoffOptions {
  /** Give up once the next wait would end later than this after the first attempt. @defaultValue no limit */
  totalTimeoutMillis?: number;
  /** Give up after this many attempts in all. @defaultValue no limit */
  maxAttempts?: number;
  /** Whether a failure may succeed if tried again. @defaultValue every failure */
  retryable?: (error: unknown, attempt: number) => boolean;
  /** Told before each wait (to log it, or to fail over to another endpoint). */
  onRetry?: (error: unknown, attempt: number, waitMillis: number) => void;
  clock?: Clock;
  random?: Random;
}

/**
 * Runs `operation` until it succeeds, waiting with backoff between attempts.
 * Rethrows the last failure as it was when it is not retryable, when the
 * attempts run out, or when the next wait would pass the total timeout.
 */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + (options.totalTimeoutMillis ?? Infinity);
  const backoff = new Backoff(options, options.random);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (options.retryable && !options.retryable(error, attempt)) throw error;
      if (attempt >= (options.maxAttempts ?? Infinity)) throw error;
      const wait = backoff.next();
      if (clock.now() + wait > deadline) throw error;
      options.onRetry?.(error, attempt, wait);
      await clock.sleep(wait);
    }
  }
}
