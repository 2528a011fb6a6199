import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@herald/errors';
import { decodePageToken, encodePageToken } from './page-token';

function assertRefused(list: string, token: string, reason: RegExp): void {
  assert.throws(
    () => decodePageToken(list, token),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(error)}`);
      assert.equal(error.field, 'page_token');
      assert.match(error.reason, reason);
      return true;
    },
  );
}

/** Replaces the character at `index` with a different one from the base64url alphabet. */
function changeCharAt(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

const notIssued = /not a token this API issued/;

/** A token with a valid checksum around any body: what someone who read the code could build. */
function wellSummed(body: string): string {
  const sum = createHash('sha256').update('herald-page-token/v1:').update(body).digest('base64url').slice(0, 12);
  return `${Buffer.from(body).toString('base64url')}.${sum}`;
}

describe('encodePageToken / decodePageToken', () => {
  const roundTrips: Array<[string, string]> = [
    ['topics', 'orders'],
    ['topics', 'a'],
    ['subscriptions', 'orders-sub.v2_x'],
    ['subscriptions:orders', 'orders-sub'],
    ['topics', ''],
    ['topics', 'with "quotes", dots... and ünïcödé 😀'],
    ['topics', 'x'.repeat(200)],
  ];
  for (const [list, after] of roundTrips) {
    it(`round-trips ${JSON.stringify(after.length > 30 ? `${after.slice(0, 30)}...` : after)} in ${list}`, () => {
      const token = encodePageToken(list, after);
      assert.equal(decodePageToken(list, token), after);
    });
  }

  it('makes URL-safe tokens', () => {
    assert.match(encodePageToken('subscriptions:orders', 'ünï/+=?&'), /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('makes the same token for the same page', () => {
    assert.equal(encodePageToken('topics', 'orders'), encodePageToken('topics', 'orders'));
    assert.notEqual(encodePageToken('topics', 'orders'), encodePageToken('topics', 'orders2'));
  });

  it('reads the empty token as the first page of any list', () => {
    assert.equal(decodePageToken('topics', ''), '');
    assert.equal(decodePageToken('subscriptions:orders', ''), '');
  });

  const otherLists: Array<[string, string]> = [
    ['topics', 'subscriptions'],
    ['subscriptions', 'topics'],
    ['subscriptions:orders', 'subscriptions:payments'],
    ['subscriptions:orders', 'subscriptions'],
    ['subscriptions', 'subscriptions:orders'],
  ];
  for (const [issuedFor, usedFor] of otherLists) {
    it(`refuses a ${issuedFor} token in a ${usedFor} request`, () => {
      assertRefused(usedFor, encodePageToken(issuedFor, 'orders'), /belongs to a different list request/);
    });
  }

  describe('refuses a well-summed token whose body is not a page', () => {
    for (const body of ['null', '5', '{"list":"topics","after":5}', '{"list":"topics"}', '[]']) {
      it(body, () => assertRefused('topics', wellSummed(body), notIssued));
    }
  });

  describe('refuses a token it did not issue', () => {
    const token = encodePageToken('topics', 'orders');
    const [body, sum] = token.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ list: 'topics', after: 'payments' })).toString('base64url');

    const cases: Array<[string, string]> = [
      ['garbage', 'not-a-token'],
      ['a lone dot', '.'],
      ['no checksum', `${body}.`],
      ['no body', `.${sum}`],
      ['only the body', body],
      ['an extra part', `${token}.extra`],
      ['two extra dots', `${body}..${sum}`],
      ['a truncated checksum', token.slice(0, -1)],
      ['a checksum with a character changed', `${body}.${changeCharAt(sum, sum.length - 1)}`],
      ['a body with its first character dropped', `${body.slice(1)}.${sum}`],
      ['a body with a character changed', `${changeCharAt(body, 2)}.${sum}`],
      ['an edited body under the old checksum', `${forgedBody}.${sum}`],
      ['the checksum of a different token', `${body}.${encodePageToken('topics', 'payments').split('.')[1]}`],
      ['a plain-text name', 'orders'],
    ];
    for (const [label, forged] of cases) {
      it(label, () => {
        assertRefused('topics', forged, notIssued);
      });
    }
  });
});
