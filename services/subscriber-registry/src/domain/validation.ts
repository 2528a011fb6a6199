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
