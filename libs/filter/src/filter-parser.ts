import { type InvalidArgumentError } from '@herald/errors';
import { type FilterNode } from './filter-ast';
import { columnAt, filterError } from './filter-error';
import { tokenize } from './filter-lexer';
import { type Token, type TokenKind } from './filter-token';

/**
 * Parses a filter into its syntax tree; undefined when the filter is blank
 * (empty or only whitespace), which means no filter: every message matches.
 *
 * Grammar (keywords are case-sensitive):
 * ```
 * filter     = expression end
 * expression = unary { "AND" unary } | unary { "OR" unary }
 * unary      = ("NOT" | "-") unary | primary
 * primary    = "(" expression ")"
 *            | "attributes" "." key ("=" | "!=") string
 *            | "attributes" ":" key
 *            | "hasPrefix" "(" "attributes" "." key "," string ")"
 * key        = word | string
 * ```
 *
 * @throws InvalidArgumentError with field `filter` and a reason naming the
 *   1-based column of the offending token.
 */
export function parseFilterSyntax(text: string): FilterNode | undefined {
  const tokens = tokenize(text);
  if (tokens.length === 1) return undefined; // only the `end` token
  return new FilterParser(text, tokens).parseFilter();
}

type Connective = 'AND' | 'OR';

// A bound on NOTs and parentheses nested in one another. Each level costs at
// least one character, so no filter within the default length limit reaches
// it; it exists so that a caller who raises that limit still gets a typed
// error, not a stack overflow, from `((((...`.
const MAX_NESTING_DEPTH = 256;

/** A recursive-descent parser over one filter's tokens; used once, then dropped. */
class FilterParser {
  private position = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseFilter(): FilterNode {
    const node = this.parseExpression();
    const next = this.peek();
    if (next.kind === ')') {
      throw this.unexpected(next, 'no matching "("');
    }
    if (next.kind !== 'end') {
      throw this.unexpected(next, 'expected AND, OR or the end of the filter');
    }
    return node;
  }

  private parseExpression(): FilterNode {
    const first = this.parseUnary();
    const connective = this.peekConnective();
    if (connective === undefined) return first;

    // Pub/Sub rejects `a AND b OR c` rather than picking a precedence, so a
    // chain is all ANDs or all ORs; mixing needs parentheses.
    const operands = [first];
    for (;;) {
      const next = this.peekConnective();
      if (next === undefined) break;
      if (next !== connective) {
        throw this.unexpected(this.peek(), 'AND and OR cannot be mixed without parentheses');
      }
      this.position++;
      operands.push(this.parseUnary());
    }
    return connective === 'AND' ? { kind: 'and', operands } : { kind: 'or', operands };
  }

  private parseUnary(): FilterNode {
    const token = this.peek();
    if (this.depth === MAX_NESTING_DEPTH) {
      throw filterError(`nesting deeper than ${MAX_NESTING_DEPTH} levels at column ${this.columnOf(token)}`);
    }
    this.depth++;
    try {
      if (token.kind === '-' || this.isWord(token, 'NOT')) {
        this.position++;
        return { kind: 'not', operand: this.parseUnary() };
      }
      return this.parsePrimary();
    } finally {
      this.depth--;
    }
  }

  private parsePrimary(): FilterNode {
    const token = this.peek();
    if (token.kind === '(') {
      this.position++;
      const inner = this.parseExpression();
      this.expect(')', '")"');
      return inner;
    }
    if (this.isWord(token, 'attributes')) {
      return this.parseAttributeTest();
    }
    if (this.isWord(token, 'hasPrefix')) {
      return this.parseHasPrefix();
    }
    throw this.expected(token, 'a condition (attributes, hasPrefix, NOT, "-" or "(")');
  }

  /** `attributes.KEY = "v"`, `attributes.KEY != "v"` or `attributes:KEY`; the cursor is on `attributes`. */
  private parseAttributeTest(): FilterNode {
    this.position++;
    const separator = this.peek();
    if (separator.kind === ':') {
      this.position++;
      return { kind: 'hasKey', key: this.parseKey() };
    }
    if (separator.kind !== '.') {
      throw this.expected(separator, '"." or ":" after attributes');
    }
    this.position++;
    const key = this.parseKey();
    const operator = this.peek();
    if (operator.kind !== '=' && operator.kind !== '!=') {
      throw this.expected(operator, '"=" or "!="');
    }
    this.position++;
    const value = this.expect('string', 'a string literal').value;
    return operator.kind === '=' ? { kind: 'equals', key, value } : { kind: 'notEquals', key, value };
  }

  /** `hasPrefix(attributes.KEY, "prefix")`; the cursor is on `hasPrefix`. */
  private parseHasPrefix(): FilterNode {
    this.position++;
    this.expect('(', '"(" after hasPrefix');
    const attributes = this.peek();
    if (!this.isWord(attributes, 'attributes')) {
      throw this.expected(attributes, 'attributes.KEY');
    }
    this.position++;
    this.expect('.', '"." after attributes');
    const key = this.parseKey();
    this.expect(',', '","');
    const prefix = this.expect('string', 'a string literal').value;
    this.expect(')', '")"');
    return { kind: 'hasPrefix', key, prefix };
  }

  /** A bare identifier or a quoted string; any word is a key here, even `AND`. */
  private parseKey(): string {
    const token = this.peek();
    if (token.kind !== 'word' && token.kind !== 'string') {
      throw this.expected(token, 'an attribute key');
    }
    if (token.value === '') {
      throw filterError(`attribute key must not be empty at column ${this.columnOf(token)}`);
    }
    this.position++;
    return token.value;
  }

  private expect(kind: TokenKind, description: string): Token {
    const token = this.peek();
    if (token.kind !== kind) throw this.expected(token, description);
    this.position++;
    return token;
  }

  private peek(): Token {
    // The lexer always ends with an `end` token and nothing consumes it, so this stays in range.
    return this.tokens[this.position];
  }

  private peekConnective(): Connective | undefined {
    const token = this.peek();
    if (this.isWord(token, 'AND')) return 'AND';
    if (this.isWord(token, 'OR')) return 'OR';
    return undefined;
  }

  private isWord(token: Token, word: string): boolean {
    return token.kind === 'word' && token.value === word;
  }

  private columnOf(token: Token): number {
    return columnAt(this.text, token.offset);
  }

  private expected(token: Token, description: string): InvalidArgumentError {
    return filterError(`expected ${description} at column ${this.columnOf(token)}`);
  }

  private unexpected(token: Token, why: string): InvalidArgumentError {
    const shown = token.kind === 'end' ? 'end of filter' : `"${token.source}"`;
    return filterError(`unexpected ${shown} at column ${this.columnOf(token)}: ${why}`);
  }
}
