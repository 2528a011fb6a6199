/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. @defaultValue 30 s */
  timeoutMillis?: number;
  /** Check this often. @defaultValue 50 ms */
  intervalMillis?: number;
  /** Says what was awaited, in the error. */
  description?: string;
}

/**
 * Polls `condition` until it returns a truthy value (which is returned) or the
 * time runs out. Tests wait on conditions, never on fixed sleeps.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeout = options.timeoutMillis ?? 30_000;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${String(lastError)})` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${options.description ?? 'a condition'}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMillis ?? 50));
  }
}
