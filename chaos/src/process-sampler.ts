import { readFileSync } from 'node:fs';
import type { ChaosDeployment } from './deployment';

/** Resident set size of a process, in bytes, from /proc; undefined when it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of every service of a deployment twice a second (following restarts). */
export interface ProcessSampler {
  /** The latest RSS of each service, in MiB. */
  current(): Record<string, number>;
  /** Stops sampling; returns the peak RSS of each service, in MiB. */
  stop(): Record<string, number>;
}

export function startSampler(deployment: ChaosDeployment, intervalMillis = 500): ProcessSampler {
  const peak: Record<string, number> = {};
  const latest: Record<string, number> = {};
  const sample = () => {
    for (const { name, process } of deployment.services) {
      const bytes = process.pid > 0 ? rssBytes(process.pid) : undefined;
      if (bytes === undefined) continue;
      const mb = Math.round(bytes / (1024 * 1024));
      latest[name] = mb;
      peak[name] = Math.max(peak[name] ?? 0, mb);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMillis);
  timer.unref();
  return {
    current: () => ({ ...latest }),
    stop: () => {
      clearInterval(timer);
      sample();
      return { ...peak };
    },
  };
}
