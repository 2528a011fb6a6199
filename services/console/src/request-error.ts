import { status } from '@grpc/grpc-js';
import { HeraldClientError } from '@herald/client';

/** A request the console refuses before calling Herald: answered 400 with the field at fault. */
export class RequestError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly httpStatus = 400,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'RequestError';
  }
}

/** What the page gets for a failure: the gRPC status name (or the console's own) and the explanation. */
export interface ErrorBody {
  error: { code: string; message: string };
}

const httpStatusOfGrpc: Record<number, number> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.FAILED_PRECONDITION]: 409,
  [status.ALREADY_EXISTS]: 409,
  [status.ABORTED]: 409,
  [status.NOT_FOUND]: 404,
  [status.PERMISSION_DENIED]: 403,
  [status.UNAUTHENTICATED]: 401,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.UNAVAILABLE]: 503,
  [status.DEADLINE_EXCEEDED]: 504,
  [status.UNIMPLEMENTED]: 501,
};

/**
 * The HTTP answer to a failure. A gRPC status from Herald is passed on as it is (its name and the
 * service's own words, which name the field or limit), so that the page says what the service said.
 */
export function errorResponse(error: unknown): { httpStatus: number; body: ErrorBody } {
  if (error instanceof RequestError) {
    const code =
      error.httpStatus === 401 ? 'UNAUTHENTICATED' : error.httpStatus === 403 ? 'PERMISSION_DENIED' : 'INVALID_REQUEST';
    return { httpStatus: error.httpStatus, body: { error: { code, message: error.message } } };
  }
  const e = error as { code?: unknown };
  if (error instanceof HeraldClientError || typeof e?.code === 'number') {
    const failure = HeraldClientError.from(error);
    return {
      httpStatus: httpStatusOfGrpc[failure.code] ?? 502,
      body: { error: { code: failure.codeName, message: failure.details || failure.message } },
    };
  }
  return {
    httpStatus: 500,
    body: { error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } },
  };
}
