import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Progress } from './progress';

describe('Progress', () => {
  it('shows "ETA --" rather than "NFs" while nothing has been counted', async () => {
    const stream = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    let drawn = '';
    stream.on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    const progress = new Progress({ enabled: true, stream, label: 'received', delayMillis: 0 });
    progress.start(10);
    await new Promise((resolve) => setTimeout(resolve, 100));
    progress.increment(0);
    progress.stop();
    assert.match(drawn, /received .* 0\/10 messages \| .*, ETA --/);
    assert.doesNotMatch(drawn, /NF/);
  });
});
