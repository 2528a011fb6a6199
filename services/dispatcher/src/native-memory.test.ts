import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { releaseFreeNativeMemory } from './native-memory';

const MB = 1000 * 1000;

/** glibc's version when this process runs on it: the one allocator with pages to ask back. */
function glibcVersion(): string | undefined {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return report.header?.glibcVersionRuntime;
}

describe('releaseFreeNativeMemory', () => {
  it('gives back the free pages a burst left between buffers still in use (glibc), and nothing elsewhere', async () => {
    if (!glibcVersion()) {
      assert.equal(releaseFreeNativeMemory(), false);
      return;
    }
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // 64 MB of buffers from malloc, one in 16 kept: 15 KB holes below memory in use, which free() keeps.
    const kept = (() => {
      const all = Array.from({ length: 64_000 }, () => Buffer.allocUnsafeSlow(1000));
      return all.filter((_, i) => i % 16 === 0);
    })();
    gc();
    // Buffers' memory is freed by V8's sweeper thread after the collection, not within it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = process.memoryUsage.rss();
    assert.equal(releaseFreeNativeMemory(), true);
    const after = process.memoryUsage.rss();
    assert.ok(before - after > 20 * MB, `resident ${before} -> ${after} bytes`);
    assert.equal(kept.length, 4_000);
  });
});
