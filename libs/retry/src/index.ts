/**
 * Herald's one retry/backoff helper, with no dependencies so that the SDK can
 * ship it inside its package and every service can use the same one.
 *
 * @packageDocumentation
 */
export { type BackoffOptions, type Random, Backoff, backoffMillis, backoffCeilingMillis } from './backoff';
export { type Clock, systemClock } from './clock';
export { type RetryOptions, retry } from './retry';
