import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@herald/errors';
import { type FilterNode } from './filter-ast';
import { parseFilterSyntax } from './filter-parser';

const eq = (key: string, value: string): FilterNode => ({ kind: 'equals', key, value });
const has = (key: string): FilterNode => ({ kind: 'hasKey', key });
const not = (operand: FilterNode): FilterNode => ({ kind: 'not', operand });
const and = (...operands: FilterNode[]): FilterNode => ({ kind: 'and', operands });
const or = (...operands: FilterNode[]): FilterNode => ({ kind: 'or', operands });

describe('parseFilterSyntax', () => {
  const cases: Array<[string, string, FilterNode | undefined]> = [
    ['a blank filter has no tree', '  \n ', undefined],
    ['equality', 'attributes.k = "v"', eq('k', 'v')],
    ['inequality', 'attributes.k != "v"', { kind: 'notEquals', key: 'k', value: 'v' }],
    ['has key', 'attributes:k', has('k')],
    ['hasPrefix', 'hasPrefix(attributes.k, "p")', { kind: 'hasPrefix', key: 'k', prefix: 'p' }],
    ['whitespace anywhere between tokens', ' attributes . k\t=\n"v" ', eq('k', 'v')],
    ['no whitespace at all', 'attributes.k="v"', eq('k', 'v')],
    ['a hyphenated key', 'attributes.content-type = "json"', eq('content-type', 'json')],
    ['a quoted key after the dot', 'attributes."my key" = "v"', eq('my key', 'v')],
    ['a quoted key after the colon', 'attributes:"iana.org/lang"', has('iana.org/lang')],
    ['a quoted key in hasPrefix', 'hasPrefix(attributes."a b", "p")', { kind: 'hasPrefix', key: 'a b', prefix: 'p' }],
    ['a key spelled like a keyword', 'attributes.NOT = "AND"', eq('NOT', 'AND')],
    ['escapes in the value', 'attributes.k = "a\\"b\\\\c"', eq('k', 'a"b\\c')],
    ['an empty value', 'attributes.k = ""', eq('k', '')],
    ['NOT', 'NOT attributes:k', not(has('k'))],
    ['- as NOT', '-attributes:k', not(has('k'))],
    ['- with a space', '- attributes:k', not(has('k'))],
    ['NOT NOT', 'NOT NOT attributes:k', not(not(has('k')))],
    ['- before parentheses', '-(attributes:a OR attributes:b)', not(or(has('a'), has('b')))],
    ['AND', 'attributes:a AND attributes:b', and(has('a'), has('b'))],
    ['OR', 'attributes:a OR attributes:b', or(has('a'), has('b'))],
    [
      'a chain of ANDs is one node',
      'attributes:a AND attributes:b AND attributes:c',
      and(has('a'), has('b'), has('c')),
    ],
    ['a chain of ORs is one node', 'attributes:a OR attributes:b OR attributes:c', or(has('a'), has('b'), has('c'))],
    ['NOT binds tighter than AND', 'NOT attributes:a AND attributes:b', and(not(has('a')), has('b'))],
    ['- binds tighter than OR', 'attributes:a OR -attributes:b', or(has('a'), not(has('b')))],
    ['redundant parentheses', '((attributes:a))', has('a')],
    [
      'parentheses let AND hold an OR',
      'attributes:a AND (attributes:b OR attributes:c)',
      and(has('a'), or(has('b'), has('c'))),
    ],
    [
      'parentheses let OR hold an AND',
      '(attributes:a AND attributes:b) OR attributes:c',
      or(and(has('a'), has('b')), has('c')),
    ],
    ['NOT over a group', 'NOT (attributes:a AND attributes:b)', not(and(has('a'), has('b')))],
  ];
  for (const [title, text, tree] of cases) {
    it(title, () => assert.deepEqual(parseFilterSyntax(text), tree));
  }

  const errors: Array<[string, string, string]> = [
    [
      'AND then OR',
      'attributes:a AND attributes:b OR attributes:c',
      'unexpected "OR" at column 31: AND and OR cannot be mixed without parentheses',
    ],
    [
      'OR then AND',
      'attributes:a OR attributes:b AND attributes:c',
      'unexpected "AND" at column 30: AND and OR cannot be mixed without parentheses',
    ],
    [
      'mixing inside parentheses',
      '(attributes:a OR attributes:b AND attributes:c)',
      'unexpected "AND" at column 31: AND and OR cannot be mixed without parentheses',
    ],
    ['a bare word where a string belongs', 'attributes.k = v', 'expected a string literal at column 16'],
    ['a number where a string belongs', 'attributes.k = 5', 'expected a string literal at column 16'],
    ['a key starting with a digit', 'attributes.1k = "v"', 'expected an attribute key at column 12'],
    ['a missing value', 'attributes.k =', 'expected a string literal at column 15'],
    ['a missing operator', 'attributes.k "v"', 'expected "=" or "!=" at column 14'],
    [
      'a comparison on has-key',
      'attributes:k = "v"',
      'unexpected "=" at column 14: expected AND, OR or the end of the filter',
    ],
    ['a missing key', 'attributes. = "v"', 'expected an attribute key at column 13'],
    ['an empty quoted key', 'attributes."" = "v"', 'attribute key must not be empty at column 12'],
    ['attributes alone', 'attributes', 'expected "." or ":" after attributes at column 11'],
    ['a bare word', 'color = "red"', 'expected a condition (attributes, hasPrefix, NOT, "-" or "(") at column 1'],
    [
      'lower-case keywords',
      'attributes:a and attributes:b',
      'unexpected "and" at column 14: expected AND, OR or the end of the filter',
    ],
    ['lower-case not', 'not attributes:a', 'expected a condition (attributes, hasPrefix, NOT, "-" or "(") at column 1'],
    [
      'a trailing AND',
      'attributes:a AND',
      'expected a condition (attributes, hasPrefix, NOT, "-" or "(") at column 17',
    ],
    ['a leading OR', 'OR attributes:a', 'expected a condition (attributes, hasPrefix, NOT, "-" or "(") at column 1'],
    ['a dangling NOT', 'NOT', 'expected a condition (attributes, hasPrefix, NOT, "-" or "(") at column 4'],
    [
      'two conditions without a connective',
      'attributes:a attributes:b',
      'unexpected "attributes" at column 14: expected AND, OR or the end of the filter',
    ],
    ['empty parentheses', '()', 'expected a condition (attributes, hasPrefix, NOT, "-" or "(") at column 2'],
    ['an unclosed parenthesis', '(attributes:a', 'expected ")" at column 14'],
    ['an unopened parenthesis', 'attributes:a)', 'unexpected ")" at column 13: no matching "("'],
    ['hasPrefix without arguments', 'hasPrefix', 'expected "(" after hasPrefix at column 10'],
    ['hasPrefix on something else', 'hasPrefix(k, "p")', 'expected attributes.KEY at column 11'],
    ['hasPrefix on a has-key', 'hasPrefix(attributes:k, "p")', 'expected "." after attributes at column 21'],
    ['hasPrefix without a comma', 'hasPrefix(attributes.k "p")', 'expected "," at column 24'],
    ['hasPrefix with a bare prefix', 'hasPrefix(attributes.k, p)', 'expected a string literal at column 25'],
    ['hasPrefix unclosed', 'hasPrefix(attributes.k, "p"', 'expected ")" at column 28'],
    ['a lexer error surfaces unchanged', 'attributes.k = "v', 'unterminated string starting at column 16'],
    [
      'nesting past the depth limit',
      '('.repeat(257) + 'attributes:a' + ')'.repeat(257),
      'nesting deeper than 256 levels at column 257',
    ],
    ['NOTs past the depth limit', '-'.repeat(257) + 'attributes:a', 'nesting deeper than 256 levels at column 257'],
  ];
  for (const [title, text, reason] of errors) {
    it(`rejects ${title}`, () => {
      assert.throws(
        () => parseFilterSyntax(text),
        (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.equal(error.field, 'filter');
          assert.equal(error.reason, reason);
          return true;
        },
      );
    });
  }

  it('accepts nesting right at the depth limit', () => {
    assert.deepEqual(parseFilterSyntax('('.repeat(255) + 'attributes:a' + ')'.repeat(255)), has('a'));
  });
});
