import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runLogDir } from './run-logs';

describe('runLogDir', () => {
  it('gives each run its own folder, even two in the same millisecond', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'herald-logs-'));
    const now = new Date('2026-05-01T10:00:00.123Z');
    const first = runLogDir(root, 10, now);
    const second = runLogDir(root, 10, now);
    assert.notEqual(first, second);
    assert.deepEqual(readdirSync(root).sort(), ['2026-05-01T10-00-00.123Z', '2026-05-01T10-00-00.123Z-2']);
  });

  it('keeps the newest runs only, and drops log files appended across runs by older versions', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'herald-logs-'));
    writeFileSync(path.join(root, 'publisher-1.log'), '{"msg":"from an earlier run"}\n');
    for (let i = 0; i < 5; i++) runLogDir(root, 3, new Date(Date.UTC(2026, 4, 1, 10, i)));
    assert.equal(existsSync(path.join(root, 'publisher-1.log')), false);
    assert.deepEqual(readdirSync(root).sort(), [
      '2026-05-01T10-02-00.000Z',
      '2026-05-01T10-03-00.000Z',
      '2026-05-01T10-04-00.000Z',
    ]);
  });
});
