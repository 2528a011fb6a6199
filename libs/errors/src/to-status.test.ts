import assert from 'node:assert/strict';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnavailableError, isRetryable } from './herald-error';
import { GrpcCode, toStatus } from './to-status';

describe('toStatus', () => {
  const cases: Array<[string, unknown, number, string]> = [
    [
      'invalid argument names the field',
      new InvalidArgumentError('topic', 'must not be empty'),
      GrpcCode.INVALID_ARGUMENT,
      'topic: must not be empty',
    ],
    ['not found', new NotFoundError('topic', 'orders'), GrpcCode.NOT_FOUND, 'topic "orders" not found'],
    [
      'already exists',
      new AlreadyExistsError('subscription', 's'),
      GrpcCode.ALREADY_EXISTS,
      'subscription "s" already exists',
    ],
    ['unavailable', new UnavailableError('kafka unreachable'), GrpcCode.UNAVAILABLE, 'kafka unreachable'],
    ['a plain error hides its text', new Error('secret internals'), GrpcCode.UNKNOWN, 'internal error'],
    ['a thrown string', 'boom', GrpcCode.UNKNOWN, 'internal error'],
  ];
  for (const [title, error, code, details] of cases) {
    it(title, () => {
      const status = toStatus(error);
      assert.equal(status.code, code);
      assert.equal(status.details, details);
    });
  }

  it('marks only unknown errors as unexpected', () => {
    assert.equal(toStatus(new NotFoundError('topic', 'x')).unexpected, false);
    assert.equal(toStatus(new TypeError('bug')).unexpected, true);
  });
});

describe('isRetryable', () => {
  it('is true for unavailable and false for caller mistakes', () => {
    assert.equal(isRetryable(new UnavailableError('down')), true);
    assert.equal(isRetryable(new InvalidArgumentError('x', 'y')), false);
    assert.equal(isRetryable(new Error('x')), false);
  });
});
