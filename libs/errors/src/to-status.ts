import type { HeraldErrorCode } from './herald-error';
import { HeraldError, RelayedError } from './herald-error';

/**
 * gRPC status codes, as numbers (the values of `google.rpc.Code`). Kept here as
 * plain numbers so that this lib stays free of any gRPC dependency.
 */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A status to send to a caller. */
export interface StatusObject {
  /** A `google.rpc.Code` value. */
  code: number;
  /** Text for the caller; never a stack trace. */
  details: string;
}

const codeByHeraldCode: Record<HeraldErrorCode, number> = {
  INVALID_ARGUMENT: GrpcCode.INVALID_ARGUMENT,
  NOT_FOUND: GrpcCode.NOT_FOUND,
  ALREADY_EXISTS: GrpcCode.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcCode.FAILED_PRECONDITION,
  ABORTED: GrpcCode.ABORTED,
  RESOURCE_EXHAUSTED: GrpcCode.RESOURCE_EXHAUSTED,
  UNAVAILABLE: GrpcCode.UNAVAILABLE,
  INTERNAL: GrpcCode.INTERNAL,
};

/**
 * The one map from anything thrown to the status a caller sees. A Herald error
 * keeps its code and text; anything else is a bug and becomes a bare UNKNOWN
 * (the caller gets no internals; the server logs the stack).
 */
export function toStatus(error: unknown): StatusObject & { unexpected: boolean } {
  if (error instanceof HeraldError) {
    return { code: codeByHeraldCode[error.code], details: error.message, unexpected: false };
  }
  return { code: GrpcCode.UNKNOWN, details: 'internal error', unexpected: true };
}

/** The Herald error for a status another Herald instance answered with; codes Herald never sends become UNAVAILABLE. */
export function fromStatus(status: StatusObject): HeraldError {
  const code = (Object.keys(codeByHeraldCode) as HeraldErrorCode[]).find(
    (heraldCode) => codeByHeraldCode[heraldCode] === status.code,
  );
  return new RelayedError(code ?? 'UNAVAILABLE', status.details);
}
