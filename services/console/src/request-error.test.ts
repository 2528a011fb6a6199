import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { RequestError, errorResponse } from './request-error';

describe('console error answers', () => {
  it("passes a Herald service's status and words on, with the matching HTTP status", () => {
    const grpcError = Object.assign(new Error('5 NOT_FOUND: topic "x" does not exist'), {
      code: status.NOT_FOUND,
      details: 'topic "x" does not exist',
    });
    assert.deepEqual(errorResponse(grpcError), {
      httpStatus: 404,
      body: { error: { code: 'NOT_FOUND', message: 'topic "x" does not exist' } },
    });
    const exists = Object.assign(new Error(''), { code: status.ALREADY_EXISTS, details: 'taken' });
    assert.equal(errorResponse(exists).httpStatus, 409);
    const down = Object.assign(new Error(''), { code: status.UNAVAILABLE, details: 'no connection' });
    assert.equal(errorResponse(down).httpStatus, 503);
  });

  it("answers the console's own refusals 400 naming the field", () => {
    assert.deepEqual(errorResponse(new RequestError('pageSize', 'must be a whole number')), {
      httpStatus: 400,
      body: { error: { code: 'INVALID_REQUEST', message: 'pageSize: must be a whole number' } },
    });
  });
});
