import type { LatencyTarget } from './bench-plan';
import type { LatencyHistogram } from './latency-histogram';

/** How often the open-loop scheduler wakes up to send what has become due. */
const schedulerTickMillis = 1;

/** What {@link sendOnSchedule} did. */
export interface ScheduledSends {
  /** `process.hrtime.bigint()` of the first intended send: every later one is a fixed interval after it. */
  startNanos: bigint;
  /** From the first intended send to the last send made. */
  sendSeconds: number;
  /** Sends made more than 2 ticks after their intended time: the sender itself fell behind its schedule. */
  lateSends: number;
  /** Every send; each records, once answered, the time from its intended send in the `answered` histogram. */
  answers: Array<Promise<void>>;
}

/**
 * Open loop: calls `send(index, intendedNanos)` for `index` 0 to `count - 1`,
 * `messagesPerSecond` of them a second on a fixed schedule starting now,
 * without waiting for earlier sends to be answered. `intendedNanos` is when
 * the schedule meant the send to happen; measured from it, a stall anywhere,
 * the sender included, delays every message scheduled during it and all of
 * that delay is counted (no coordinated omission). A send that fails is not
 * recorded in `answered` (the caller counts what is missing).
 */
export async function sendOnSchedule(
  count: number,
  messagesPerSecond: number,
  send: (index: number, intendedNanos: bigint) => Promise<unknown>,
  answered: LatencyHistogram,
): Promise<ScheduledSends> {
  const intervalNanos = 1e9 / messagesPerSecond;
  const answers: Array<Promise<void>> = [];
  const startNanos = process.hrtime.bigint();
  let sent = 0;
  let lateSends = 0;
  while (sent < count) {
    const now = process.hrtime.bigint();
    for (;;) {
      if (sent >= count) break;
      const intendedNanos = startNanos + BigInt(Math.round(sent * intervalNanos));
      if (intendedNanos > now) break;
      if (now - intendedNanos > BigInt(2 * schedulerTickMillis * 1e6)) lateSends++;
      answers.push(
        send(sent, intendedNanos).then(
          () => answered.recordSince(intendedNanos),
          () => undefined,
        ),
      );
      sent++;
    }
    if (sent < count) await new Promise((resolve) => setTimeout(resolve, schedulerTickMillis));
  }
  const sendSeconds = Number(process.hrtime.bigint() - startNanos) / 1e9;
  return { startNanos, sendSeconds, lateSends, answers };
}

/**
 * Waits for every answer, at most `timeoutMillis`: deliveries often come before
 * the sender's answer, so a caller that stops at the last delivery misses the
 * slowest answers.
 */
export async function waitForAnswers(answers: Array<Promise<void>>, timeoutMillis: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(answers),
    new Promise((resolve) => (timer = setTimeout(resolve, timeoutMillis))),
  ]);
  clearTimeout(timer);
}

/** How the report names a row measured at a fixed rate: `2,000 msg/s`. */
export function fixedRateVariant(messagesPerSecond: number): string {
  return `${Math.round(messagesPerSecond).toLocaleString('en-US')} msg/s`;
}

/** What a row at a latency target says about it, for its notes. */
export function targetNote(target: LatencyTarget): string {
  return `a latency target's fixed rate: publish to delivery p50 ≤ ${target.p50Millis} ms, p99 ≤ ${target.p99Millis} ms`;
}
