import { createClock } from '@sinonjs/fake-timers';
import type { Timers } from '../timers';

/** A fake clock as the SDK's {@link Timers}, for unit tests: time moves only with `tick`. */
export function fakeTimers() {
  const clock = createClock(1_000_000);
  const timers: Timers = {
    now: () => clock.now,
    setTimeout: (callback, millis) => clock.setTimeout(callback, millis),
    clearTimeout: (handle) => clock.clearTimeout(handle as ReturnType<typeof clock.setTimeout>),
  };
  return { clock, timers };
}
