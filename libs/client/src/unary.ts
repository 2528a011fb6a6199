import { type CallOptions, type Client, connectivityState, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { Backoff, type BackoffOptions } from './backoff';
import { HeraldClientError, isNoConnection } from './client-error';
import type { EndpointPool } from './endpoints';

/** How unary calls are retried. */
export interface RetryOptions extends BackoffOptions {
  /** Give up after this long in all. @defaultValue 30 s (the Publisher: 60 s) */
  totalTimeoutMillis?: number;
  /**
   * Deadline of each attempt once connected. Longer than the server's own
   * timeout for the work (Kafka's acknowledgement, a registry write), so that a
   * slow answer is waited for rather than sent again while the first is still
   * in progress. Never past the total timeout: nothing is resent after it
   * anyway. @defaultValue 20 s (the Publisher: 40 s)
   */
  attemptTimeoutMillis?: number;
  /** How long an attempt waits for a connection to an endpoint before moving to the next. @defaultValue 5 s */
  connectTimeoutMillis?: number;
}

type Method<C, Req, Res> = (
  client: C,
) => (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** Less time than this left in the total timeout starts no further attempt. */
const minimumAttemptMillis = 50;

/** An attempt that never reached the service: no connection to the endpoint. */
class Unreachable extends Error {}

/**
 * Calls a unary rpc on the pool's current endpoint; on a retryable status it
 * waits (exponential backoff with full jitter) and tries the next endpoint,
 * until the total timeout. Only calls that are safe to repeat may go through here.
 *
 * An attempt first waits (up to `connectTimeoutMillis`) for a connection, so
 * that an endpoint nothing answers on costs a few seconds, not the attempt's
 * whole deadline, and the error names it instead of grpc-js's "LB pick".
 *
 * @throws HeraldClientError with the last status; UNAVAILABLE naming the
 * addresses when no endpoint could be reached.
 */
export async function callWithRetry<C extends Client, Req, Res>(
  pool: EndpointPool<C>,
  method: Method<C, Req, Res>,
  request: Req,
  retry: RetryOptions = {},
): Promise<Res> {
  const started = Date.now();
  const deadline = started + (retry.totalTimeoutMillis ?? 30_000);
  const backoff = new Backoff(retry);
  for (let attempt = 1; ; attempt++) {
    const client = pool.current;
    const address = pool.currentAddress;
    let failure: HeraldClientError;
    try {
      await connected(client, Math.min(deadline, Date.now() + (retry.connectTimeoutMillis ?? 5_000)));
      return await new Promise<Res>((resolve, reject) => {
        method(client).call(
          client,
          request,
          new Metadata(),
          { deadline: Math.min(deadline, Date.now() + (retry.attemptTimeoutMillis ?? 20_000)) },
          (error, response) => (error ? reject(error) : resolve(response)),
        );
      });
    } catch (error) {
      failure =
        error instanceof Unreachable || isNoConnection(error)
          ? new HeraldClientError(status.UNAVAILABLE, `cannot connect to ${address}`, { cause: error })
          : HeraldClientError.from(error);
    }
    const wait = backoff.next();
    if (!failure.retryable || Date.now() + wait + minimumAttemptMillis > deadline) {
      throw givingUp(pool, failure, attempt, started);
    }
    pool.next();
    await new Promise((resolve) => setTimeout(resolve, wait));
    // A timer that fired late on a busy machine leaves next to nothing of the budget: an attempt with a
    // deadline of a millisecond would only put a DEADLINE_EXCEEDED of our own in place of the service's status.
    if (deadline - Date.now() < minimumAttemptMillis) throw givingUp(pool, failure, attempt, started);
  }
}

/**
 * Resolves once the client's channel is connected. Rejects with Unreachable
 * when a connection attempt fails (the channel goes to TRANSIENT_FAILURE: the
 * next endpoint may do better) or none succeeds by the deadline.
 */
function connected(client: Client, deadline: number): Promise<void> {
  const channel = client.getChannel();
  return new Promise((resolve, reject) => {
    const check = () => {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolve();
      if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN) {
        return reject(new Unreachable('connection failed'));
      }
      if (Date.now() >= deadline) return reject(new Unreachable('no connection in time'));
      channel.watchConnectivityState(state, deadline, (error) =>
        error ? reject(new Unreachable('no connection in time')) : check(),
      );
    };
    check();
  });
}

/**
 * The error a caller sees when retries end: one line saying what happened.
 * Failures that are not retryable pass as they are; an unreachable service
 * becomes UNAVAILABLE naming its addresses; the service's own UNAVAILABLE
 * (Kafka unreachable...) keeps its words and says where and for how long.
 */
function givingUp(
  pool: EndpointPool<Client>,
  failure: HeraldClientError,
  attempts: number,
  started: number,
): HeraldClientError {
  if (!failure.retryable) return failure;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const tried = `${attempts} attempt${attempts === 1 ? '' : 's'} in ${seconds} s`;
  if (failure.cause instanceof Unreachable || isNoConnection(failure.cause)) {
    return new HeraldClientError(
      status.UNAVAILABLE,
      `cannot reach the ${pool.service} at ${pool.allAddresses.join(', ')} (${tried}): is it running, and is the address right?`,
      { cause: failure.cause },
    );
  }
  return new HeraldClientError(failure.code, `${failure.details} (${pool.service}, gave up after ${tried})`, {
    cause: failure,
  });
}
