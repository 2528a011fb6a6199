/**
 * The kinds of token the filter lexer emits. Punctuation kinds are spelled as
 * their source text. `number` exists only so that `attributes.k = 5` gets
 * "expected a string literal" rather than a less helpful "unexpected character";
 * no rule of the grammar accepts one.
 */
export type TokenKind = 'word' | 'number' | 'string' | '.' | ':' | '=' | '!=' | '(' | ')' | ',' | '-' | 'end';

/** One token of a filter, with where it starts so that errors can point at it. */
export interface Token {
  readonly kind: TokenKind;
  /** The token as written, quotes and escapes included; empty for `end`. */
  readonly source: string;
  /** For a string, its value with quotes removed and escapes decoded; otherwise the same as `source`. */
  readonly value: string;
  /** UTF-16 offset of the token's first character in the filter text. */
  readonly offset: number;
}
