import { InvalidArgumentError } from '@herald/errors';

/** The request field every filter error names. */
const FILTER_FIELD = 'filter';

/** Builds the error every bad filter raises, so callers see one field name and one shape. */
export function filterError(reason: string): InvalidArgumentError {
  return new InvalidArgumentError(FILTER_FIELD, reason);
}

/**
 * The 1-based column of a UTF-16 offset in `text`, counted in code points.
 *
 * Counting code points rather than UTF-16 units keeps the column right for a
 * user who pasted an emoji into a string literal. Only called on the error path.
 */
export function columnAt(text: string, offset: number): number {
  let column = 1;
  for (let index = 0; index < offset; index++) {
    const code = text.charCodeAt(index);
    // A high surrogate followed by a low one is a single character.
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < offset) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
    }
    column++;
  }
  return column;
}

/** The number of characters (code points) in `text`, the unit the length limit is stated in. */
export function characterCount(text: string): number {
  return columnAt(text, text.length) - 1;
}
