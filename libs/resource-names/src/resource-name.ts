import { InvalidArgumentError } from '@herald/errors';

/** Length bounds of a topic or subscription name. */
export const nameLengthBounds = { min: 3, max: 200 } as const;

const namePattern = /^[A-Za-z][A-Za-z0-9._-]*$/;

/**
 * Topic and subscription names: 3 to 200 characters, a letter first, then
 * letters, digits, `.`, `_` or `-`; nothing starting with `herald` (reserved
 * for Herald's own topics). These rules keep every name a legal Kafka topic
 * and group name once prefixed.
 */
export function validateResourceName(field: string, name: string): void {
  if (name.length === 0) throw new InvalidArgumentError(field, 'is required');
  if (name.length < nameLengthBounds.min || name.length > nameLengthBounds.max) {
    throw new InvalidArgumentError(
      field,
      `must be ${nameLengthBounds.min} to ${nameLengthBounds.max} characters long, not ${name.length}`,
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
