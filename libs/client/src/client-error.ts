import { type ServiceError, status } from '@grpc/grpc-js';

/**
 * Status codes after which the same call may succeed: Herald's client retries these. Not ABORTED: Herald
 * answers it only to a write with a stale etag, which the same request can never pass.
 */
const retryableCodes = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED]);

/** How grpc-js words a message over a channel's size limit, on either side. */
const tooLarge = /message larger than max/i;

/**
 * An error from a Herald call: the gRPC status code (as a number and a name)
 * and the server's explanation, which names the field or limit at fault.
 */
export class HeraldClientError extends Error {
  /** The `google.rpc.Code` value, e.g. 5 for NOT_FOUND. */
  readonly code: number;
  /** The status name, e.g. `NOT_FOUND`. */
  readonly codeName: string;
  /** What the server said went wrong. */
  readonly details: string;

  constructor(code: number, details: string, options?: { cause?: unknown }) {
    const codeName = status[code] ?? String(code);
    super(`${codeName}: ${details}`, options);
    this.name = 'HeraldClientError';
    this.code = code;
    this.codeName = codeName;
    this.details = details;
  }

  /** Wraps a grpc-js error (anything else becomes UNKNOWN). */
  static from(error: unknown): HeraldClientError {
    if (error instanceof HeraldClientError) return error;
    const e = error as Partial<ServiceError>;
    if (typeof e?.code === 'number')
      return new HeraldClientError(e.code, e.details ?? e.message ?? '', { cause: error });
    return new HeraldClientError(status.UNKNOWN, error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }

  /** Whether the call may succeed if made again (Herald's clients retry these by themselves). */
  get retryable(): boolean {
    // gRPC's own size limit answers RESOURCE_EXHAUSTED too, but the same message is as large the next time.
    if (this.code === status.RESOURCE_EXHAUSTED && tooLarge.test(this.details)) return false;
    return retryableCodes.has(this.code);
  }
}

/** grpc-js's ways of saying that a call found no connection (rather than that the service answered). */
export function isNoConnection(error: unknown): boolean {
  const e = error as Partial<ServiceError>;
  const details = e?.details ?? '';
  return (
    // grpc-js names the remote address once a call had a connection; without one, it only waited for it.
    (e?.code === status.DEADLINE_EXCEEDED &&
      /LB pick|waiting for (connection|name resolution)/i.test(details) &&
      !/remote_addr=/.test(details)) ||
    (e?.code === status.UNAVAILABLE &&
      // Anchored: a service's own UNAVAILABLE may quote a connection error of its own (Kafka's).
      /^(No connection established|connect ECONNREFUSED|Name resolution failed)/i.test(details))
  );
}
