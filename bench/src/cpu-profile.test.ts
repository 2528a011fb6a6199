import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { partOf, summarizeProfile } from './cpu-profile';

describe('summarizeProfile', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-profile-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sums self time per function and per part from the sample gaps, leaving idle out of the shares', () => {
    const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('encode', 'file:///x/node_modules/kafkajs/src/protocol/encoder.js', 9) },
        { id: 3, callFrame: frame('write', 'file:///x/node_modules/@grpc/grpc-js/build/src/call.js', 41) },
        { id: 4, callFrame: frame('(idle)', '') },
        { id: 5, callFrame: frame('(garbage collector)', '') },
      ],
      startTime: 0,
      endTime: 10_000,
      // Samples at 0, 3000, 4000, 8000 and 9000 µs: each counts until the next, the last until the end.
      samples: [2, 3, 2, 4, 5],
      timeDeltas: [0, 3000, 1000, 4000, 1000],
    };
    const file = path.join(dir, 'p.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    const summary = summarizeProfile('publisher', file);
    assert.equal(summary.profiledMillis, 10);
    assert.equal(summary.busyMillis, 9);
    assert.deepEqual(
      summary.byPart.map((part) => [part.name, part.selfMillis]),
      [
        ['kafkajs', 7],
        ['@grpc/grpc-js', 1],
        ['(garbage collector)', 1],
      ],
    );
    const top = summary.topFunctions[0]!;
    assert.equal(top.name, 'encode');
    assert.equal(top.location, 'kafkajs/src/protocol/encoder.js:10');
    assert.ok(Math.abs(top.share - 7 / 9) < 1e-9);
  });
});

describe('partOf', () => {
  it('names packages, Node.js areas, Herald workspaces and V8 entries', () => {
    assert.equal(partOf('f', 'file:///r/node_modules/@bufbuild/protobuf/dist/cjs/wire/x.js'), '@bufbuild/protobuf');
    assert.equal(partOf('f', 'node:internal/http2/core'), 'node:http2');
    assert.equal(partOf('f', 'node:buffer'), 'node:buffer');
    assert.equal(partOf('(program)', ''), '(program)');
    assert.equal(partOf('writeBuffer', ''), '(native)');
  });
});
