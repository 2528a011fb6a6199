import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * A fresh folder under `logsRoot` for one run's service logs, named for its
 * start time, so that a run's logs never mix with an earlier run's. Only the
 * newest `keep` run folders are kept (this one included); log files that
 * older versions wrote straight into `logsRoot`, appended across runs, go.
 */
export function runLogDir(logsRoot: string, keep = 10, now = new Date()): string {
  mkdirSync(logsRoot, { recursive: true });
  const entries = readdirSync(logsRoot, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith('.log')) rmSync(path.join(logsRoot, entry.name), { force: true });
  }
  const earlier = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const name of earlier.slice(0, Math.max(0, earlier.length - keep + 1))) {
    rmSync(path.join(logsRoot, name), { recursive: true, force: true });
  }
  // ISO time without colons (valid on every file system), sortable; a suffix if two runs start in the same ms.
  const stamp = now.toISOString().replaceAll(':', '-');
  for (let n = 1; ; n++) {
    const dir = path.join(logsRoot, n === 1 ? stamp : `${stamp}-${n}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
