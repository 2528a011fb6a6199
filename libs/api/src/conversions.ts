import type { Duration } from './gen/google/protobuf/duration';

/** Milliseconds in a protobuf Duration (ts-proto carries seconds as a string). */
export function durationToMillis(duration: Duration | undefined): number | undefined {
  if (duration === undefined) return undefined;
  return Number(duration.seconds) * 1000 + Math.round(duration.nanos / 1e6);
}

/** A protobuf Duration of whole or fractional milliseconds. */
export function millisToDuration(millis: number): Duration {
  const seconds = Math.floor(millis / 1000);
  return { seconds: String(seconds), nanos: Math.round((millis - seconds * 1000) * 1e6) };
}
