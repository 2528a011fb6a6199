import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReloadedFile, TokenFile } from './reloaded-file';

describe('ReloadedFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'herald-reloaded-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes the file with a given modification time, so that a rewrite is seen whatever the clock's resolution. */
  const write = (file: string, text: string, mtimeSeconds: number) => {
    writeFileSync(file, text);
    utimesSync(file, mtimeSeconds, mtimeSeconds);
  };

  /** A ReloadedFile of `{"n":1}` (modified at 1,000 s) parsing JSON, which counts its parses. */
  const countingJson = () => {
    const file = path.join(dir, 'a.json');
    write(file, '{"n":1}', 1_000);
    const counted = { file, parses: 0, reloaded: undefined as unknown as ReloadedFile<{ n: number }> };
    counted.reloaded = new ReloadedFile(file, (text) => {
      counted.parses += 1;
      return JSON.parse(text) as { n: number };
    });
    return counted;
  };

  it('parses the file once while its size and modification time stay', () => {
    const counted = countingJson();
    const { reloaded } = counted;
    assert.deepEqual(reloaded.read(), { n: 1 });
    assert.deepEqual(reloaded.read(), { n: 1 });
    assert.equal(counted.parses, 1);
  });

  it('parses again when the modification time changes, handing over the new stamp', () => {
    const file = path.join(dir, 'a.json');
    write(file, '{"n":1}', 1_000);
    const stamps: string[] = [];
    const reloaded = new ReloadedFile(file, (text, stamp) => {
      stamps.push(stamp);
      return JSON.parse(text) as { n: number };
    });
    reloaded.read();
    write(file, '{"n":2}', 2_000);
    assert.deepEqual(reloaded.read(), { n: 2 });
    assert.equal(stamps.length, 2);
    assert.notEqual(stamps[0], stamps[1]);
  });

  it('throws on a change that does not parse and keeps the last good content and its stamp', () => {
    const counted = countingJson();
    const { file, reloaded } = counted;
    reloaded.read();
    write(file, '{"n":', 2_000);
    assert.throws(() => reloaded.read(), SyntaxError);
    // Back to the version that was taken: nothing to parse, the kept content is handed out.
    write(file, '{"n":1}', 1_000);
    const before = counted.parses;
    assert.deepEqual(reloaded.read(), { n: 1 });
    assert.equal(counted.parses, before);
  });

  it('retries a failed check at the next read and takes the file once whole', () => {
    const file = path.join(dir, 'a.json');
    write(file, '{"n":1}', 1_000);
    const reloaded = new ReloadedFile(file, (text) => JSON.parse(text) as { n: number });
    reloaded.read();
    write(file, '{"n":', 2_000);
    assert.throws(() => reloaded.read(), SyntaxError);
    write(file, '{"n":3}', 3_000);
    assert.deepEqual(reloaded.read(), { n: 3 });
  });

  it('does not look at the file again before checkEveryMillis, except while nothing has loaded', () => {
    const file = path.join(dir, 'a.json');
    const reloaded = new ReloadedFile(file, (text) => JSON.parse(text) as { n: number }, 3_600_000);
    assert.throws(() => reloaded.read(), { code: 'ENOENT' });
    write(file, '{"n":1}', 1_000);
    assert.deepEqual(reloaded.read(), { n: 1 });
    write(file, '{"n":2}', 2_000);
    assert.deepEqual(reloaded.read(), { n: 1 });
  });
});

describe('TokenFile', () => {
  it('reads the token without its surrounding whitespace, and again when rewritten', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-token-'));
    try {
      const file = path.join(dir, 'token');
      writeFileSync(file, 'first\n');
      utimesSync(file, 1_000, 1_000);
      const token = new TokenFile(file);
      assert.equal(token.read(), 'first');
      writeFileSync(file, 'second\n');
      utimesSync(file, 2_000, 2_000);
      assert.equal(token.read(), 'second');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
