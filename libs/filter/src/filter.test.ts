import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@herald/errors';
import { DEFAULT_MAX_FILTER_LENGTH, matchAll, parseFilter } from './index';

/** Asserts that `run` throws the filter error with exactly this reason. */
function assertFilterError(run: () => unknown, reason: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.equal(error.field, 'filter');
    assert.equal(error.reason, reason);
    return true;
  });
}

describe('parseFilter', () => {
  describe('evaluation', () => {
    const attributes = { color: 'red', size: 'large', 'content-type': 'application/json', 'my key': 'v', empty: '' };
    const cases: Array<[string, boolean]> = [
      // equality
      ['attributes.color = "red"', true],
      ['attributes.color = "blue"', false],
      ['attributes.color = "RED"', false],
      ['attributes.color = "re"', false],
      ['attributes.missing = "red"', false],
      ['attributes.empty = ""', true],
      ['attributes.missing = ""', false],
      ['attributes.content-type = "application/json"', true],
      ['attributes."my key" = "v"', true],
      // inequality, which matches an absent key
      ['attributes.color != "blue"', true],
      ['attributes.color != "red"', false],
      ['attributes.missing != "red"', true],
      ['attributes.missing != ""', true],
      ['attributes.empty != ""', false],
      // has key
      ['attributes:color', true],
      ['attributes:empty', true],
      ['attributes:missing', false],
      ['attributes:"my key"', true],
      // hasPrefix
      ['hasPrefix(attributes.content-type, "application/")', true],
      ['hasPrefix(attributes.content-type, "text/")', false],
      ['hasPrefix(attributes.color, "red")', true],
      ['hasPrefix(attributes.color, "")', true],
      ['hasPrefix(attributes.color, "reddish")', false],
      ['hasPrefix(attributes.missing, "")', false],
      // NOT and -
      ['NOT attributes:color', false],
      ['NOT attributes:missing', true],
      ['-attributes:missing', true],
      ['-attributes.color = "red"', false],
      ['NOT attributes.missing = "red"', true],
      ['NOT NOT attributes:color', true],
      ['--attributes:color', true],
      // AND
      ['attributes.color = "red" AND attributes.size = "large"', true],
      ['attributes.color = "red" AND attributes.size = "small"', false],
      ['attributes.color = "blue" AND attributes.size = "large"', false],
      ['attributes:color AND attributes:size AND attributes:empty', true],
      ['attributes:color AND attributes:size AND attributes:missing', false],
      // OR
      ['attributes.color = "blue" OR attributes.size = "large"', true],
      ['attributes.color = "blue" OR attributes.size = "small"', false],
      ['attributes:missing OR attributes:gone OR attributes:color', true],
      ['attributes:missing OR attributes:gone OR attributes:absent', false],
      // precedence and parentheses
      ['NOT attributes:missing AND attributes:color', true],
      ['NOT (attributes:missing AND attributes:color)', true],
      ['NOT attributes:color OR attributes:size', true],
      ['NOT (attributes:color OR attributes:size)', false],
      ['attributes:missing AND (attributes:color OR attributes:size)', false],
      ['(attributes:missing AND attributes:color) OR attributes:size', true],
      ['-(attributes.color = "red" AND -attributes:missing)', false],
      // keys that exist on every object's prototype are not attributes
      ['attributes:toString', false],
      ['attributes:constructor', false],
      ['attributes.constructor != "x"', true],
      ['hasPrefix(attributes.toString, "f")', false],
      ['attributes:__proto__', false],
    ];
    for (const [text, expected] of cases) {
      it(`${text} → ${expected}`, () => assert.equal(parseFilter(text).matches(attributes), expected));
    }

    it('matches an empty attribute map only through negation', () => {
      assert.equal(parseFilter('attributes:a').matches({}), false);
      assert.equal(parseFilter('attributes.a = "x"').matches({}), false);
      assert.equal(parseFilter('attributes.a != "x"').matches({}), true);
      assert.equal(parseFilter('NOT attributes:a').matches({}), true);
    });

    it('reads an own __proto__ attribute as an attribute', () => {
      const withProto = Object.fromEntries([['__proto__', 'x']]) as Record<string, string>;
      assert.equal(parseFilter('attributes:__proto__').matches(withProto), true);
      assert.equal(parseFilter('attributes.__proto__ = "x"').matches(withProto), true);
    });

    it('evaluates against a map of 1000 attributes', () => {
      const large: Record<string, string> = {};
      for (let index = 0; index < 1000; index++) large[`key-${index}`] = `value-${index}`;
      const filter = parseFilter(
        '(attributes.key-0 = "value-0" AND attributes:key-999) AND ' +
          '(hasPrefix(attributes.key-500, "value-5") OR attributes:key-1000) AND attributes.key-1000 != "x"',
      );
      assert.equal(filter.matches(large), true);
      assert.equal(parseFilter('attributes:key-1000').matches(large), false);
      assert.equal(parseFilter('attributes.key-999 = "value-998"').matches(large), false);
    });
  });

  describe('the empty filter', () => {
    const blanks: Array<[string, string]> = [
      ['empty', ''],
      ['only whitespace', ' \t\n'],
    ];
    for (const [title, text] of blanks) {
      it(`is matchAll when ${title}`, () => assert.equal(parseFilter(text), matchAll));
    }

    it('matchAll matches every map and has empty text', () => {
      assert.equal(matchAll.text, '');
      assert.equal(matchAll.matches({}), true);
      assert.equal(matchAll.matches({ a: 'b' }), true);
    });
  });

  it('keeps the text as written', () => {
    const text = '  attributes:a  ';
    assert.equal(parseFilter(text).text, text);
  });

  describe('length limit', () => {
    const padded = (length: number): string => 'attributes.k = "' + 'x'.repeat(length - 17) + '"';

    it('defaults to 256', () => assert.equal(DEFAULT_MAX_FILTER_LENGTH, 256));

    it('accepts a filter of exactly the limit', () => {
      const text = padded(256);
      assert.equal(text.length, 256);
      assert.equal(parseFilter(text).matches({ k: 'x'.repeat(239) }), true);
    });

    it('rejects a filter one past the limit', () => {
      assertFilterError(() => parseFilter(padded(257)), 'filter is 257 characters long; the limit is 256');
    });

    it('rejects by length before reading the syntax', () => {
      assertFilterError(() => parseFilter('@'.repeat(300)), 'filter is 300 characters long; the limit is 256');
    });

    it('counts whitespace toward the limit', () => {
      assertFilterError(() => parseFilter(' '.repeat(257)), 'filter is 257 characters long; the limit is 256');
    });

    it('counts an emoji as one character', () => {
      const text = 'attributes.k = "' + '😀'.repeat(239) + '"';
      assert.equal(text.length, 256 + 239);
      assert.equal(parseFilter(text).matches({ k: '😀'.repeat(239) }), true);
    });

    it('never hits the nesting limit within the default length', () => {
      const text = '-'.repeat(244) + 'attributes:a';
      assert.equal(text.length, 256);
      assert.equal(parseFilter(text).matches({ a: '' }), true); // an even number of NOTs
    });

    it('takes a different limit from the caller', () => {
      assertFilterError(
        () => parseFilter('attributes:abc', { maxLength: 10 }),
        'filter is 14 characters long; the limit is 10',
      );
      assert.equal(parseFilter(padded(1000), { maxLength: 1000 }).matches({ k: 'x'.repeat(983) }), true);
    });
  });

  describe('errors', () => {
    const errors: Array<[string, string]> = [
      [
        'attributes:a AND attributes:b OR attributes:c',
        'unexpected "OR" at column 31: AND and OR cannot be mixed without parentheses',
      ],
      ['attributes.k = 42', 'expected a string literal at column 16'],
      ['attributes.k = "v" # comment', 'unexpected character "#" at column 20'],
      ['attributes.k = "v', 'unterminated string starting at column 16'],
      ['attributes.k = "\\x"', 'unknown escape "\\x" at column 17; only \\" and \\\\ are allowed'],
      ['attributes.k == "v"', 'expected a string literal at column 15'],
      ['(attributes:a', 'expected ")" at column 14'],
    ];
    for (const [text, reason] of errors) {
      it(`rejects ${text}`, () => assertFilterError(() => parseFilter(text), reason));
    }
  });
});
