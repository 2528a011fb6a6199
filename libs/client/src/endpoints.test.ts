import assert from 'node:assert/strict';
import { type Client, credentials } from '@grpc/grpc-js';
import { EndpointPool, channelCredentials } from './endpoints';

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

describe('EndpointPool', () => {
  class FakeClient {
    closed = false;
    constructor(readonly address: string) {}
    close(): void {
      this.closed = true;
    }
  }
  const pool = () =>
    new EndpointPool(FakeClient as unknown as new (address: string) => Client & FakeClient, {
      endpoints: ['a:1', 'b:2'],
    });

  it('gives the client of any address: an endpoint its own, another one made once, all closed together', () => {
    const endpoints = pool();
    const current = endpoints.currentAddress;
    assert.equal(endpoints.clientAt(current), endpoints.current, "an endpoint's own client");
    const other = endpoints.clientAt('c:3');
    assert.equal(other.address, 'c:3');
    assert.equal(endpoints.clientAt('c:3'), other, 'made once');
    assert.equal(endpoints.currentAddress, current, 'the current endpoint does not move');
    assert.equal(endpoints.size, 2);
    const endpoint = endpoints.clientAt('a:1');
    endpoints.close();
    assert.ok(other.closed && endpoint.closed);
  });
});
