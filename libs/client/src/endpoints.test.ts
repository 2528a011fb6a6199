import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import { channelCredentials } from './endpoints';

describe('channelCredentials', () => {
  it('is plaintext without tls, and TLS with it', () => {
    assert.equal(channelCredentials({})._isSecure(), false);
    assert.equal(channelCredentials({ tls: {} })._isSecure(), true);
    assert.equal(channelCredentials({ tls: {}, token: () => 't' })._isSecure(), true);
  });

  it('never sends a token in plaintext', () => {
    assert.throws(() => channelCredentials({ token: 'secret' }), /a token needs TLS/);
  });

  it('wants a client certificate and its key together', () => {
    assert.throws(() => channelCredentials({ tls: { cert: 'x' } }), /tls.cert and tls.key go together/);
  });

  it('uses credentials made by hand as they are', () => {
    const made = credentials.createInsecure();
    assert.equal(channelCredentials({ credentials: made, token: 'ignored' }), made);
  });
});
