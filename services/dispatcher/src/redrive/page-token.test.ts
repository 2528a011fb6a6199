import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@herald/errors';
import { decodePageToken, encodePageToken } from './page-token';

describe('page tokens', () => {
  it('carry each partition’s next offset', () => {
    const next = new Map([
      [0, 12],
      [2, 0],
    ]);
    assert.deepEqual(decodePageToken(encodePageToken(next)), next);
  });

  it('start at the beginning when empty', () => {
    assert.equal(decodePageToken(''), undefined);
  });

  it('refuse anything else with INVALID_ARGUMENT', () => {
    for (const token of ['not base64 json', Buffer.from('{"a":1}').toString('base64url'), encodeBad()]) {
      assert.throws(
        () => decodePageToken(token),
        (error: unknown) => error instanceof InvalidArgumentError && error.field === 'page_token',
      );
    }
  });
});

function encodeBad(): string {
  return Buffer.from(JSON.stringify([[0, -1]])).toString('base64url');
}
