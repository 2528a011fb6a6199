import { InvalidArgumentError } from '@herald/errors';
import { parseFilter } from '@herald/filter';
import { RegistryLimits as L } from './registry-limits';

const namePattern = /^[A-Za-z][A-Za-z0-9._-]*$/;

/**
 * Topic and subscription names: 3 to 200 characters, a letter first, then
 * letters, digits, `.`, `_` or `-`; nothing starting with `herald` (reserved
 * for Herald's own topics). These rules keep every name a legal Kafka topic
 * and group name once prefixed.
 */
export function validateName(field: string, name: string): void {
  if (name.length === 0) throw new InvalidArgumentError(field, 'is required');
  if (name.length < L.nameMinLength || name.length > L.nameMaxLength) {
    throw new InvalidArgumentError(
      field,
      `must be ${L.nameMinLength} to ${L.nameMaxLength} characters long, not ${name.length}`,
    );
  }
  if (!namePattern.test(name)) {
    const bad = [...name].find((c, i) => (i === 0 ? !/[A-Za-z]/.test(c) : !/[A-Za-z0-9._-]/.test(c)));
    const where = name.indexOf(bad ?? '');
    throw new InvalidArgumentError(
      field,
      where === 0
        ? `must start with a letter, not "${bad}"`
        : `may contain only letters, digits, ".", "_" and "-"; found "${bad}" at position ${where + 1}`,
    );
  }
  if (name.toLowerCase().startsWith('herald'))
    throw new InvalidArgumentError(field, 'names starting with "herald" are reserved');
}

/** A whole number within bounds. */
export function validateRange(field: string, value: number, min: number, max: number, unit = ''): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(field, `must be between ${min} and ${max}${unit}, not ${value}${unit}`);
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
