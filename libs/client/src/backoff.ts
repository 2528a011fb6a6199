/** How a client waits between attempts. */
export interface BackoffOptions {
  /** First wait. @defaultValue 100 ms */
  initialMillis?: number;
  /** Longest wait. @defaultValue 5 s */
  maxMillis?: number;
}

/** Exponential backoff with full jitter: attempt 1 waits up to `initialMillis`, each next one up to twice that. */
export function backoffMillis(options: BackoffOptions, attempt: number): number {
  const initial = options.initialMillis ?? 100;
  const max = options.maxMillis ?? 5_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt - 1, 20));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export function sleep(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}
