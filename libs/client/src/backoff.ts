/**
 * The SDK's waits come from Herald's one backoff helper (`@herald/retry`,
 * shipped inside this package): exponential, full jitter, capped.
 */
export { backoffMillis, type BackoffOptions, type Clock, systemClock, Backoff, type Random } from '@herald/retry';

export function sleep(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}
