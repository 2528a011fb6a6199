import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isAlive } from '@herald/local-kafka';

/** What {@link acquireRunLock} found. */
export type RunLockResult =
  | { acquired: true; release: () => void }
  /** Another run holds the folder: its pid, alive. */
  | { acquired: false; ownerPid: number };

/**
 * Makes this process the one `make run` of a run folder, through a pid file
 * created exclusively (two runs starting together cannot both win). A pid file
 * whose process is gone, or is no longer a run of `processMarker` (the pid was
 * reused), is stale and taken over: only then may the caller stop what that
 * run left behind (its Kafka).
 *
 * @param processMarker - text the owner's command line contains (`run-local`)
 */
export function acquireRunLock(dir: string, processMarker: string): RunLockResult {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'run.pid');
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        acquired: true,
        release: () => {
          if (ownerOf(file) === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = ownerOf(file);
    // Created but not written yet: a run starting this very moment holds it.
    if (owner === undefined && Date.now() - modifiedAt(file) < 1_000) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      const commandLine = commandLineOf(owner);
      // A command line that cannot be read counts as a run's: never take a live run's folder.
      if (commandLine === undefined || commandLine.includes(processMarker)) return { acquired: false, ownerPid: owner };
    }
    // Stale: its run is gone. Moved aside rather than removed, so that of two starters taking it over
    // at once only one moves it, and a fresh pid file written meanwhile by a third is put back.
    const aside = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const moved = ownerOf(aside);
    if (moved !== owner && moved !== undefined && isAlive(moved)) {
      renameSync(aside, file);
      return { acquired: false, ownerPid: moved };
    }
    rmSync(aside, { force: true });
  }
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function modifiedAt(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** The command line of a live process, or undefined when this system does not say (no /proc, no ps). */
function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    // macOS and the BSDs have no /proc.
  }
  try {
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
}
