import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '@herald/config';
import { connectionSecurity, readConsoleConfig } from './config';

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

  it("reads the console's own token from HERALD_TOKEN_FILE, trimmed, and again once the file is rewritten", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-console-token-'));
    try {
      const file = path.join(dir, 'token');
      writeFileSync(file, 'first\n');
      utimesSync(file, 1_000, 1_000);
      const { ownToken } = connectionSecurity(readConsoleConfig({ HERALD_TLS: 'true', HERALD_TOKEN_FILE: file }));
      assert.equal(ownToken?.(), 'first');
      writeFileSync(file, 'second\n');
      utimesSync(file, 2_000, 2_000);
      assert.equal(ownToken?.(), 'second');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
