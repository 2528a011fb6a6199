import { InvalidArgumentError } from '@herald/errors';

/** Where a tail starts. */
export type TailStart = { kind: 'latest' } | { kind: 'earliest' } | { kind: 'time'; timeMillis: number };

/** Earliest time a tail may start from: Kafka record timestamps are never negative. */
const earliestTimeMillis = 0;
/** Latest: the end of year 9999, the upper bound of `google.protobuf.Timestamp` (the registry uses the same). */
const latestTimeMillis = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * A tail's start time, checked here rather than left to Kafka: a time out of
 * range is the caller's mistake, and Kafka's answer to it (a failed offset
 * lookup) would reach the caller as UNAVAILABLE. ts-proto decodes a Timestamp
 * beyond JavaScript's range into an invalid Date (NaN), which fails here too.
 */
export function tailStartAtTime(field: string, millis: number): TailStart {
  if (!(millis >= earliestTimeMillis && millis <= latestTimeMillis)) {
    const shown = Number.isFinite(millis) ? new Date(millis).toISOString() : 'an invalid time';
    throw new InvalidArgumentError(
      field,
      `must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, not ${shown}`,
    );
  }
  return { kind: 'time', timeMillis: millis };
}
