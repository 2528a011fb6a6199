import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acquireRunLock } from './run-lock';

describe('acquireRunLock', () => {
  const folder = () => mkdtempSync(path.join(tmpdir(), 'herald-lock-'));
  /** A stand-in for a running `make run`: a process whose command line holds the marker. */
  const otherRun = () => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'fake-run-local']);
  const exited = (child: ChildProcess) => new Promise((resolve) => child.on('exit', resolve));

  it('is refused while the run that holds it lives, and taken over once it is gone', async () => {
    const dir = folder();
    const owner = otherRun();
    try {
      await new Promise((resolve) => owner.on('spawn', resolve));
      writeFileSync(path.join(dir, 'run.pid'), `${owner.pid}\n`);
      assert.deepEqual(acquireRunLock(dir, 'fake-run-local'), { acquired: false, ownerPid: owner.pid });
    } finally {
      owner.kill('SIGKILL');
      await exited(owner);
    }
    const lock = acquireRunLock(dir, 'fake-run-local');
    assert.equal(lock.acquired, true);
    assert.equal(readFileSync(path.join(dir, 'run.pid'), 'utf8').trim(), String(process.pid));
    if (lock.acquired) lock.release();
    assert.equal(existsSync(path.join(dir, 'run.pid')), false);
  });

  it('takes over the file of a live process that is no run (its pid was reused)', async () => {
    const dir = folder();
    const stranger = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await new Promise((resolve) => stranger.on('spawn', resolve));
      writeFileSync(path.join(dir, 'run.pid'), `${stranger.pid}\n`);
      assert.equal(acquireRunLock(dir, 'fake-run-local').acquired, true);
    } finally {
      stranger.kill('SIGKILL');
      await exited(stranger);
    }
  });
});
