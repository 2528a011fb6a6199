import { type CallOptions, type Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import { backoffMillis, type BackoffOptions, sleep } from './backoff';
import { HeraldClientError } from './client-error';
import type { EndpointPool } from './endpoints';

/** How unary calls are retried. */
export interface RetryOptions extends BackoffOptions {
  /** Give up after this long in all. @defaultValue 30 s */
  totalTimeoutMillis?: number;
  /** Deadline of each attempt. @defaultValue 10 s */
  attemptTimeoutMillis?: number;
}

type Method<C, Req, Res> = (
  client: C,
) => (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/**
 * Calls a unary rpc on the pool's current endpoint; on a retryable status it
 * waits (exponential backoff with jitter) and tries the next endpoint, until
 * the total timeout. Only calls that are safe to repeat may go through here.
 *
 * @throws HeraldClientError with the last status.
 */
export async function callWithRetry<C extends Client, Req, Res>(
  pool: EndpointPool<C>,
  method: Method<C, Req, Res>,
  request: Req,
  retry: RetryOptions = {},
): Promise<Res> {
  const deadline = Date.now() + (retry.totalTimeoutMillis ?? 30_000);
  for (let attempt = 1; ; attempt++) {
    const client = pool.current;
    try {
      return await new Promise<Res>((resolve, reject) => {
        method(client).call(
          client,
          request,
          new Metadata(),
          { deadline: Date.now() + (retry.attemptTimeoutMillis ?? 10_000) },
          (error, response) => (error ? reject(error) : resolve(response)),
        );
      });
    } catch (error) {
      const failure = HeraldClientError.from(error);
      const wait = backoffMillis(retry, attempt);
      if (!failure.retryable || Date.now() + wait > deadline) throw failure;
      pool.next();
      await sleep(wait);
    }
  }
}
