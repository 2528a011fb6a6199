import assert from 'node:assert/strict';
import { parseV8Heap } from './v8-heap';

describe('parseV8Heap', () => {
  it('reads the total and used heap of prom-client default metrics', () => {
    const text = [
      '# HELP nodejs_heap_size_total_bytes Process heap size from Node.js in bytes.',
      '# TYPE nodejs_heap_size_total_bytes gauge',
      'nodejs_heap_size_total_bytes 269160448',
      'nodejs_heap_size_used_bytes 8.9e+7',
      'nodejs_heap_space_size_used_bytes{space="old"} 1234',
    ].join('\n');
    assert.deepEqual(parseV8Heap(text), { totalBytes: 269_160_448, usedBytes: 89_000_000 });
  });

  it('is undefined when a figure is missing', () => {
    assert.equal(parseV8Heap('nodejs_heap_size_total_bytes 1\n'), undefined);
  });
});
