import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { UnsecuredJWT } from 'jose';
import { Sessions, sessionCookie, tokenExpiry } from './sessions';

describe('Sessions', () => {
  const endpoints = { registry: ['127.0.0.1:1'], dispatcher: ['127.0.0.1:1'], publisher: ['127.0.0.1:1'] };
  const requestWith = (id: string) => ({ headers: { cookie: `${sessionCookie}=${id}` } }) as IncomingMessage;
  const jwt = (expiresAt: number) => new UnsecuredJWT({ sub: 'op' }).setExpirationTime(expiresAt).encode();
  let sessions: Sessions;
  beforeEach(() => (sessions = new Sessions(endpoints, {})));
  afterEach(() => sessions.close());

  it('reads when a token expires, and takes a token without exp (or not a JWT) as not expiring', () => {
    assert.equal(tokenExpiry(jwt(2_000_000_000)), 2_000_000_000_000);
    assert.equal(tokenExpiry(new UnsecuredJWT({ sub: 'op' }).encode()), Infinity);
    assert.equal(tokenExpiry('not-a-jwt'), Infinity);
  });

  it('ends a session when its token expires, so that no list is served on a token the services refuse', () => {
    const expired = sessions.create(jwt(Math.floor(Date.now() / 1000) - 1));
    assert.equal(sessions.tokenOf(requestWith(expired)), undefined);
    const live = jwt(Math.floor(Date.now() / 1000) + 600);
    assert.equal(sessions.tokenOf(requestWith(sessions.create(live))), live);
    assert.equal(sessions.tokenOf(requestWith('forged')), undefined);
  });
});
