import assert from 'node:assert/strict';
import { ConfigError } from '@herald/config';
import { readConsoleConfig } from './config';

describe('console configuration', () => {
  it('has defaults for a local stack', () => {
    const config = readConsoleConfig({});
    assert.equal(config.CONSOLE_PORT, 9470);
    assert.deepEqual(config.DISPATCHER_ADDRESSES, ['127.0.0.1:50053']);
    assert.equal(config.CONSOLE_SIGN_IN, false);
  });

  it('refuses tokens without TLS, and half a client certificate', () => {
    assert.throws(() => readConsoleConfig({ CONSOLE_SIGN_IN: 'true' }), /CONSOLE_SIGN_IN needs TLS/);
    assert.throws(() => readConsoleConfig({ HERALD_TOKEN_FILE: '/run/token' }), ConfigError);
    assert.equal(readConsoleConfig({ CONSOLE_SIGN_IN: 'true', HERALD_TLS: 'true' }).CONSOLE_SIGN_IN, true);
    assert.throws(() => readConsoleConfig({ HERALD_TLS_CLIENT_CERT: '/c.pem' }), /HERALD_TLS_CLIENT_KEY/);
    assert.throws(() => readConsoleConfig({ CONSOLE_PORT: '99999' }), /CONSOLE_PORT/);
  });
});
