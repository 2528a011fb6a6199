/** The subscription's retry policy, in milliseconds. */
export interface RetryPolicy {
  minimumBackoffMillis: number;
  maximumBackoffMillis: number;
}

/**
 * How long a message waits before its next delivery, after `failedAttempts`
 * failed ones (nacked or expired; the same rule for both): exponential from the
 * minimum, capped at the maximum.
 */
export function retryDelayMillis(policy: RetryPolicy, failedAttempts: number): number {
  if (failedAttempts <= 0) return 0;
  const exponent = Math.min(failedAttempts - 1, 30);
  return Math.min(policy.maximumBackoffMillis, policy.minimumBackoffMillis * 2 ** exponent);
}
