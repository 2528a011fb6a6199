/**
 * Time as the SDK's parts see it. Every timer of the subscriber's parts goes
 * through one of these, so that unit tests drive them with a fake clock.
 */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, millis: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. Its timers keep the process alive, as an open subscriber
 * should (a reconnection pending must not let the process exit); `close()`
 * clears them all.
 */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, millis) => setTimeout(callback, millis),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Resolves after `millis` on the given timers. */
export function delay(timers: Timers, millis: number): Promise<void> {
  return new Promise((resolve) => timers.setTimeout(resolve, millis));
}
