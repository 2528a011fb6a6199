import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@herald/errors';
import { tokenize } from './filter-lexer';

/** Tokens as `kind:value` strings, which read well in a table. */
function lex(text: string): string[] {
  return tokenize(text).map((token) =>
    token.kind === 'word' || token.kind === 'number' || token.kind === 'string'
      ? `${token.kind}:${token.value}`
      : token.kind,
  );
}

describe('tokenize', () => {
  const cases: Array<[string, string, string[]]> = [
    ['nothing but the end', '', ['end']],
    ['whitespace of every kind is skipped', ' \t\r\n ', ['end']],
    ['an equality', 'attributes.k = "v"', ['word:attributes', '.', 'word:k', '=', 'string:v', 'end']],
    ['!= is one token', 'attributes.k!="v"', ['word:attributes', '.', 'word:k', '!=', 'string:v', 'end']],
    ['a has-key test', 'attributes:k', ['word:attributes', ':', 'word:k', 'end']],
    [
      'hasPrefix with its punctuation',
      'hasPrefix(attributes.k,"p")',
      ['word:hasPrefix', '(', 'word:attributes', '.', 'word:k', ',', 'string:p', ')', 'end'],
    ],
    ['keywords are words', 'NOT AND OR', ['word:NOT', 'word:AND', 'word:OR', 'end']],
    ['a hyphen inside a word belongs to it', 'content-type', ['word:content-type', 'end']],
    ['a leading hyphen is its own token', '-attributes:k', ['-', 'word:attributes', ':', 'word:k', 'end']],
    ['digits and underscores continue a word', '_k1_2', ['word:_k1_2', 'end']],
    [
      'a digit starts a number, not a word',
      'attributes.k = 42',
      ['word:attributes', '.', 'word:k', '=', 'number:42', 'end'],
    ],
    ['a string keeps inner spaces', '"a b"', ['string:a b', 'end']],
    ['an escaped quote', '"say \\"hi\\""', ['string:say "hi"', 'end']],
    ['an escaped backslash', '"a\\\\b"', ['string:a\\b', 'end']],
    ['an escaped backslash before the closing quote', '"a\\\\"', ['string:a\\', 'end']],
    ['the empty string', '""', ['string:', 'end']],
    ['unicode inside a string', '"héllo 😀"', ['string:héllo 😀', 'end']],
  ];
  for (const [title, text, tokens] of cases) {
    it(title, () => assert.deepEqual(lex(text), tokens));
  }

  it('records where each token starts and how it was written', () => {
    const tokens = tokenize('a  "x\\"y"');
    assert.deepEqual(
      tokens.map(({ kind, source, offset }) => [kind, source, offset]),
      [
        ['word', 'a', 0],
        ['string', '"x\\"y"', 3],
        ['end', '', 9],
      ],
    );
  });

  const errors: Array<[string, string, string]> = [
    ['a character no token starts with', 'attributes.k @', 'unexpected character "@" at column 14'],
    ['a lone !', 'attributes.k ! "v"', 'unexpected character "!" at column 14'],
    ['single quotes are not strings', "attributes.k = 'v'", `unexpected character "'" at column 16`],
    ['an emoji outside a string is shown whole', 'a 😀', 'unexpected character "😀" at column 3'],
    ['an unterminated string', 'attributes.k = "abc', 'unterminated string starting at column 16'],
    ['a string ending in an escaped quote', 'attributes.k = "abc\\"', 'unterminated string starting at column 16'],
    ['a string ending in a lone backslash', '"abc\\', 'unterminated string starting at column 1'],
    ['an unknown escape', '"a\\nb"', 'unknown escape "\\n" at column 3; only \\" and \\\\ are allowed'],
    [
      'columns after an emoji count it once',
      '"😀\\t"',
      'unknown escape "\\t" at column 3; only \\" and \\\\ are allowed',
    ],
  ];
  for (const [title, text, reason] of errors) {
    it(`rejects ${title}`, () => {
      assert.throws(
        () => tokenize(text),
        (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.equal(error.field, 'filter');
          assert.equal(error.reason, reason);
          return true;
        },
      );
    });
  }
});
