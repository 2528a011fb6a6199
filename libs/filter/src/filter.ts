import { characterCount, filterError } from './filter-error';
import { type Attributes, type AttributePredicate, compileFilter } from './filter-compiler';
import { parseFilterSyntax } from './filter-parser';

/** The longest filter Pub/Sub accepts, and Herald's default. */
export const DEFAULT_MAX_FILTER_LENGTH = 256;

/** A parsed, compiled subscription filter. */
export interface Filter {
  /** The filter as the caller wrote it; empty for {@link matchAll}. */
  readonly text: string;
  /**
   * Whether a message with these attributes passes the filter. Cheap enough to
   * call for every message delivered.
   */
  matches(attributes: Attributes): boolean;
}

/** Options for {@link parseFilter}. */
export interface ParseFilterOptions {
  /**
   * The longest filter accepted, in characters (Unicode code points).
   * @defaultValue 256
   */
  maxLength?: number;
}

/** The filter of a subscription without one: every message matches. */
export const matchAll: Filter = Object.freeze({
  text: '',
  matches: (): boolean => true,
});

/** A filter compiled from text. A class, not a literal, so every instance shares one shape. */
class CompiledFilter implements Filter {
  constructor(
    readonly text: string,
    private readonly predicate: AttributePredicate,
  ) {}

  matches(attributes: Attributes): boolean {
    return this.predicate(attributes);
  }
}

/**
 * Parses a Pub/Sub subscription filter and compiles it for evaluation.
 *
 * Supports `attributes.KEY = "v"`, `attributes.KEY != "v"`, `attributes:KEY`,
 * `hasPrefix(attributes.KEY, "p")`, `NOT` (or `-`), `AND`, `OR` and
 * parentheses. AND and OR may not be mixed at one level without parentheses.
 * A blank filter gives {@link matchAll}.
 *
 * @param text - the filter as the user wrote it
 * @param options - limits; see {@link ParseFilterOptions}
 * @returns a filter to call `matches` on per message
 * @throws InvalidArgumentError with field `filter` when the text is too long or
 *   is not a valid filter; the reason names the 1-based column of the problem.
 */
export function parseFilter(text: string, options: ParseFilterOptions = {}): Filter {
  const maxLength = options.maxLength ?? DEFAULT_MAX_FILTER_LENGTH;
  const length = characterCount(text);
  if (length > maxLength) {
    throw filterError(`filter is ${length} characters long; the limit is ${maxLength}`);
  }
  const syntax = parseFilterSyntax(text);
  return syntax === undefined ? matchAll : new CompiledFilter(text, compileFilter(syntax));
}
