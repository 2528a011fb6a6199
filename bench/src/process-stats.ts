import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** What /proc says about one process at one moment. */
export interface ProcessSample {
  /** User plus system CPU time since the process started. */
  cpuSeconds: number;
  /** Resident set size now. */
  rssBytes: number;
  /** Highest resident set size since the process started, or since its peak was last reset. */
  peakRssBytes: number;
}

/** How busy the whole machine was over a measured interval. */
export interface MachineLoad {
  cores: number;
  /** Share of all cores' time spent busy (not idle, not waiting for I/O), 0 to 1. */
  busyShare: number;
  /**
   * Share of all cores' time used by processes other than the metered ones, 0 to 1:
   * other work on the machine that competed with the benchmark.
   */
  otherShare: number;
}

/** What a {@link ProcessMeter} measured. */
export interface MeteredInterval {
  seconds: number;
  processes: ProcessUsage[];
  machine: MachineLoad;
}

/** CPU time and memory of one process over a measured interval. */
export interface ProcessUsage {
  /** Role of the process in the benchmark: `publisher`, `kafka`, `harness`... */
  role: string;
  pid: number;
  /** CPU time (user + system) the process used during the interval. */
  cpuSeconds: number;
  /** Highest resident set size seen during the interval. */
  peakRssBytes: number;
}

let clockTicksPerSecond: number | undefined;

/** `getconf CLK_TCK`: the unit of the CPU times in /proc/<pid>/stat (100 on every Linux we know). */
function clockTicks(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** Reads /proc/<pid>/stat and /proc/<pid>/status. Throws when the process is gone. */
export function sampleProcess(pid: number): ProcessSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, state is field 3; utime and stime are fields 14 and 15 of the whole line.
  const userTicks = Number(fields[14 - 3]);
  const systemTicks = Number(fields[15 - 3]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuSeconds: (userTicks + systemTicks) / clockTicks(),
    rssBytes: statusKilobytes(status, 'VmRSS') * 1024,
    peakRssBytes: statusKilobytes(status, 'VmHWM') * 1024,
  };
}

/** Busy and total CPU time of all cores since boot, from the `cpu` line of /proc/stat. */
export function sampleMachineCpu(): { busySeconds: number; totalSeconds: number; cores: number } {
  const stat = readFileSync('/proc/stat', 'utf8');
  const [total, ...cores] = stat.split('\n').filter((line) => /^cpu\d* /.test(line));
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const ticks = (total ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const all = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busySeconds: (all - idle) / clockTicks(), totalSeconds: all / clockTicks(), cores: cores.length };
}

function statusKilobytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/**
 * Resets the process's peak RSS (VmHWM) to its current RSS, so that the peak of
 * one scenario is not the peak of an earlier one. Linux allows it to the
 * process's owner (`echo 5 > /proc/<pid>/clear_refs`); returns false where not.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Measures CPU time and peak RSS of some processes over an interval, and how
 * busy the machine was meanwhile. The peak comes from VmHWM after a reset, and
 * from RSS samples every 200 ms where the reset is not allowed. A process that
 * exits before the end is reported as of its last sample.
 */
export class ProcessMeter {
  private readonly first = new Map<number, ProcessSample>();
  private readonly last = new Map<number, ProcessSample>();
  private readonly sampledPeak = new Map<number, number>();
  private readonly peakWasReset = new Map<number, boolean>();
  private machineAtBegin: ReturnType<typeof sampleMachineCpu> | undefined;
  private begunAt = 0n;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly processes: ReadonlyArray<{ role: string; pid: number }>) {}

  /** Starts the interval. */
  begin(): void {
    for (const { pid } of this.processes) {
      this.peakWasReset.set(pid, resetPeakRss(pid));
      const sample = sampleProcess(pid);
      this.first.set(pid, sample);
      this.last.set(pid, sample);
      this.sampledPeak.set(pid, sample.rssBytes);
    }
    this.machineAtBegin = sampleMachineCpu();
    this.begunAt = process.hrtime.bigint();
    this.timer = setInterval(() => this.sampleAll(), 200);
    this.timer.unref();
  }

  /** Ends the interval and returns what it measured. */
  end(): MeteredInterval {
    clearInterval(this.timer);
    this.sampleAll();
    const seconds = Number(process.hrtime.bigint() - this.begunAt) / 1e9;
    const machineAtEnd = sampleMachineCpu();
    const processes = this.processes.map(({ role, pid }): ProcessUsage => {
      const before = this.first.get(pid);
      const after = this.last.get(pid);
      if (!before || !after) throw new Error('ProcessMeter.end() called before begin()');
      const sampled = this.sampledPeak.get(pid) ?? 0;
      return {
        role,
        pid,
        cpuSeconds: after.cpuSeconds - before.cpuSeconds,
        peakRssBytes: this.peakWasReset.get(pid) ? Math.max(after.peakRssBytes, sampled) : sampled,
      };
    });
    const begin = this.machineAtBegin!;
    const capacity = machineAtEnd.totalSeconds - begin.totalSeconds;
    const busy = machineAtEnd.busySeconds - begin.busySeconds;
    const metered = processes.reduce((sum, usage) => sum + usage.cpuSeconds, 0);
    return {
      seconds,
      processes,
      machine: {
        cores: machineAtEnd.cores,
        busyShare: capacity > 0 ? busy / capacity : 0,
        otherShare: capacity > 0 ? Math.max(0, busy - metered) / capacity : 0,
      },
    };
  }

  private sampleAll(): void {
    for (const { pid } of this.processes) {
      try {
        const sample = sampleProcess(pid);
        this.last.set(pid, sample);
        this.sampledPeak.set(pid, Math.max(this.sampledPeak.get(pid) ?? 0, sample.rssBytes));
      } catch {
        // the process exited: its last sample stands
      }
    }
  }
}
