import { InvalidArgumentError } from '@herald/errors';
import { parseFilter } from '@herald/filter';
import { RegistryLimits as L } from './registry-limits';

export { validateResourceName as validateName } from '@herald/resource-names';

/** A whole number within bounds. */
export function validateRange(field: string, value: number, min: number, max: number, unit = ''): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(field, `must be between ${min} and ${max}${unit}, not ${value}${unit}`);
  }
}

/** Earliest time a start or seek may name: Kafka record timestamps are never negative. */
export const earliestTimeMillis = 0;
/** Latest: the end of year 9999, the upper bound of `google.protobuf.Timestamp`. */
export const latestTimeMillis = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * A point in time a subscription starts from or seeks to. ts-proto turns a
 * Timestamp out of JavaScript's range into an invalid Date (NaN) and one inside
 * it but far from now into a real Date, so both ends are checked here.
 */
export function validateTime(field: string, millis: number): void {
  if (!(millis >= earliestTimeMillis && millis <= latestTimeMillis)) {
    const shown = Number.isFinite(millis) ? new Date(millis).toISOString() : 'an invalid time';
    throw new InvalidArgumentError(
      field,
      `must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, not ${shown}`,
    );
  }
}

/** A subscription filter: parsed now, so that a bad one fails at creation, pointing at the bad token. */
export function validateFilter(field: string, filter: string): void {
  if (filter.length === 0) return;
  try {
    parseFilter(filter, { maxLength: L.filterMaxLength });
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new InvalidArgumentError(field, error.reason);
    throw error;
  }
}
