/**
 * Preloaded into a Herald service by `--profile` runs, with `NODE_OPTIONS=--require hook.js`
 * (Node.js 20 refuses `--cpu-prof` in NODE_OPTIONS). It drives V8's sampling profiler, the one
 * `--cpu-prof` uses, through the inspector of the service's own process: SIGUSR2 starts a
 * profile, the next SIGUSR2 stops it and writes `DIR/INSTANCE-PID-N.cpuprofile`, so that a
 * profile covers one scenario and nothing else. A profile still running at exit (the service
 * stopped by SIGTERM) is written then. The service's code is untouched.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

// The folder for the profiles (set by bench-environment.ts); without it the hook does nothing.
const dir = process.env.HERALD_BENCH_PROFILE_DIR;
if (dir) {
  const instance = process.env.HERALD_INSTANCE_ID || 'service';
  const session = new Session();
  session.connect();
  // The interval --cpu-prof uses by default.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  let profiling = false;
  let written = 0;

  // A session of the process's own inspector answers synchronously, so this also works in an 'exit' handler.
  const stopAndWrite = () => {
    if (!profiling) return;
    profiling = false;
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      const file = path.join(dir, `${instance}-${process.pid}-${++written}.cpuprofile`);
      // Written under another name first: the benchmark picks up only complete files.
      writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
      renameSync(`${file}.tmp`, file);
    });
  };
  process.on('SIGUSR2', () => {
    if (profiling) return stopAndWrite();
    profiling = true;
    session.post('Profiler.start');
  });
  process.on('exit', stopAndWrite);
}
