import { columnAt, filterError } from './filter-error';
import { type Token, type TokenKind } from './filter-token';

const SINGLE_CHARACTER_TOKENS: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  ['.', '.'],
  [':', ':'],
  ['=', '='],
  ['(', '('],
  [')', ')'],
  [',', ','],
  ['-', '-'],
]);

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r';
}

function isWordStart(char: string): boolean {
  return (char >= 'A' && char <= 'Z') || (char >= 'a' && char <= 'z') || char === '_';
}

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9';
}

// Attribute keys may contain hyphens (`attributes.content-type`), so a word
// does too. A leading `-` is never part of a word: there it means NOT.
function isWordPart(char: string): boolean {
  return isWordStart(char) || isDigit(char) || char === '-';
}

/**
 * Splits a filter into tokens, ending with one `end` token.
 *
 * Keywords (AND, OR, NOT, attributes, hasPrefix) come out as plain words; the
 * parser decides what a word means from where it stands, so that a key may be
 * spelled like a keyword (`attributes.NOT`).
 *
 * @throws InvalidArgumentError on a character no token starts with, an
 *   unterminated string, or an unknown escape; the reason names the column.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  while (offset < text.length) {
    const char = text[offset];
    if (isWhitespace(char)) {
      offset++;
    } else if (char === '"') {
      const token = readString(text, offset);
      tokens.push(token);
      offset += token.source.length;
    } else if (isWordStart(char) || isDigit(char)) {
      let end = offset + 1;
      while (end < text.length && isWordPart(text[end])) end++;
      const word = text.slice(offset, end);
      tokens.push({ kind: isDigit(char) ? 'number' : 'word', source: word, value: word, offset });
      offset = end;
    } else if (char === '!' && text[offset + 1] === '=') {
      tokens.push({ kind: '!=', source: '!=', value: '!=', offset });
      offset += 2;
    } else {
      const kind = SINGLE_CHARACTER_TOKENS.get(char);
      if (kind === undefined) {
        throw filterError(`unexpected character "${characterAt(text, offset)}" at column ${columnAt(text, offset)}`);
      }
      tokens.push({ kind, source: char, value: char, offset });
      offset++;
    }
  }
  tokens.push({ kind: 'end', source: '', value: '', offset: text.length });
  return tokens;
}

// A whole code point, so that an emoji in an error message is not cut in half.
function characterAt(text: string, offset: number): string {
  return String.fromCodePoint(text.codePointAt(offset) ?? 0);
}

/** Reads the double-quoted string that starts at `start`; only `\"` and `\\` are escapes. */
function readString(text: string, start: number): Token {
  let value = '';
  let offset = start + 1;
  while (offset < text.length) {
    const char = text[offset];
    if (char === '"') {
      return { kind: 'string', source: text.slice(start, offset + 1), value, offset: start };
    }
    if (char === '\\') {
      const escaped = text[offset + 1];
      if (escaped === undefined) break;
      if (escaped !== '"' && escaped !== '\\') {
        throw filterError(
          `unknown escape "\\${characterAt(text, offset + 1)}" at column ${columnAt(text, offset)}; ` +
            `only \\" and \\\\ are allowed`,
        );
      }
      value += escaped;
      offset += 2;
    } else {
      value += char;
      offset++;
    }
  }
  throw filterError(`unterminated string starting at column ${columnAt(text, start)}`);
}
