/**
 * Herald's typed errors. Domain code throws these; it never imports gRPC.
 * `to-status.ts` is the one place that turns them into gRPC status codes.
 */

/** The codes a Herald error can carry; each maps to one gRPC status code. */
export type HeraldErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** Base of every error Herald raises on purpose. */
export abstract class HeraldError extends Error {
  /** Which status the caller receives. */
  abstract readonly code: HeraldErrorCode;
  /** Whether the same request may succeed if sent again unchanged. */
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown when a request field breaks a rule; names the field and the reason. */
export class InvalidArgumentError extends HeraldError {
  readonly code = 'INVALID_ARGUMENT';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** The kinds of thing a request can name. */
export type ResourceKind = 'topic' | 'subscription';

/** Thrown when a topic or subscription named in a request does not exist. */
export class NotFoundError extends HeraldError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly kind: ResourceKind,
    readonly resourceName: string,
    /** The request field that named it, when it is not the obvious one. */
    readonly field?: string,
  ) {
    super(`${field ? `${field}: ` : ''}${kind} "${resourceName}" not found`);
  }
}

/** Thrown when a create names a topic or subscription that already exists. */
export class AlreadyExistsError extends HeraldError {
  readonly code = 'ALREADY_EXISTS';
  constructor(
    readonly kind: ResourceKind,
    readonly resourceName: string,
  ) {
    super(`${kind} "${resourceName}" already exists`);
  }
}

/** Thrown when the request is valid but the system is not in a state to serve it (a detached subscription). */
export class FailedPreconditionError extends HeraldError {
  readonly code = 'FAILED_PRECONDITION';
}

/**
 * Thrown when a write names a version (an IAM policy's etag) that is no longer
 * the current one: someone else changed it since it was read. The caller reads
 * again and reapplies its change; retrying the same request fails the same way.
 */
export class AbortedError extends HeraldError {
  readonly code = 'ABORTED';
}

/** Thrown when a configured limit is reached; names the limit. */
export class ResourceExhaustedError extends HeraldError {
  readonly code = 'RESOURCE_EXHAUSTED';
  override readonly retryable = true;
  constructor(
    readonly limit: string,
    message: string,
  ) {
    super(`${limit}: ${message}`);
  }
}

/** Thrown when a dependency (Kafka, another Herald service) cannot be reached in time. Safe to retry. */
export class UnavailableError extends HeraldError {
  readonly code = 'UNAVAILABLE';
  override readonly retryable = true;
}

/** Thrown when Herald's own invariants break: a bug, never the caller's fault. */
export class InternalError extends HeraldError {
  readonly code = 'INTERNAL';
}

/** Whether an error says that retrying the same operation may succeed. */
export function isRetryable(error: unknown): boolean {
  return error instanceof HeraldError && error.retryable;
}

/**
 * An error another Herald instance answered with, passed on unchanged to the
 * caller whose request was forwarded there (a dispatcher relaying a stream to
 * the dispatcher that serves its subscription).
 */
export class RelayedError extends HeraldError {
  override readonly retryable: boolean;

  constructor(
    readonly code: HeraldErrorCode,
    message: string,
  ) {
    super(message);
    this.retryable = code === 'UNAVAILABLE';
  }
}
