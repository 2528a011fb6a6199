import { strict as assert } from 'node:assert';
import { InvalidArgumentError } from '@herald/errors';
import { isRestrictedAddress, parseGrpcPushTarget, parseHttpPushEndpoint } from './push-endpoint';

describe('push endpoints', () => {
  it('takes https URLs, and http only when insecure endpoints are allowed', () => {
    assert.deepEqual(parseHttpPushEndpoint('f', 'https://hooks.example.com/herald', false), {
      host: 'hooks.example.com',
      port: 443,
      secure: true,
    });
    assert.deepEqual(parseHttpPushEndpoint('f', 'http://[::1]:8080/x', true), {
      host: '::1',
      port: 8080,
      secure: false,
    });
    assert.throws(() => parseHttpPushEndpoint('f', 'http://example.com/', false), /must be an https:\/\/ URL/);
    assert.throws(() => parseHttpPushEndpoint('f', 'ftp://example.com/', true), InvalidArgumentError);
    assert.throws(() => parseHttpPushEndpoint('f', 'not a url', true), /is not a URL/);
    assert.throws(() => parseHttpPushEndpoint('f', 'https://u:p@example.com/', false), /credentials/);
    assert.throws(() => parseHttpPushEndpoint('f', '', false), /is required/);
    assert.throws(() => parseHttpPushEndpoint('f', `https://e.com/${'a'.repeat(2048)}`, false), /the limit is 2048/);
  });

  it('takes gRPC targets as host:port (TLS) or grpc://host:port (plaintext, when allowed)', () => {
    assert.deepEqual(parseGrpcPushTarget('f', 'push.example.com:443', false), {
      host: 'push.example.com',
      port: 443,
      secure: true,
    });
    assert.deepEqual(parseGrpcPushTarget('f', 'grpc://127.0.0.1:41150', true), {
      host: '127.0.0.1',
      port: 41150,
      secure: false,
    });
    assert.throws(() => parseGrpcPushTarget('f', 'grpc://127.0.0.1:41150', false), /plaintext/);
    assert.throws(() => parseGrpcPushTarget('f', 'push.example.com', false), /is not host:port/);
    assert.throws(() => parseGrpcPushTarget('f', 'h:70000', false), /is not host:port/);
  });

  it('restricts loopback, private, link-local and unspecified addresses, IPv4-mapped ones included', () => {
    for (const address of [
      '127.0.0.1',
      '127.1.2.3',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '100.64.0.1',
      '::1',
      '[::1]',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
    ]) {
      assert.equal(isRestrictedAddress(address), true, address);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8', 'example.com']) {
      assert.equal(isRestrictedAddress(address), false, address);
    }
  });
});
