import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@herald/errors';
import { parseFilter } from '@herald/filter';
import { validateFilter, validateName, validateRange } from './validation';

/** Asserts that `run` throws an InvalidArgumentError on `field` with exactly this reason. */
function assertInvalid(run: () => unknown, field: string, reason: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.equal(error.reason, reason);
    assert.equal(error.message, `${field}: ${reason}`);
    return true;
  });
}

describe('validateName', () => {
  const valid = [
    'abc',
    'ABC',
    'a'.repeat(200),
    'a12',
    'a.b',
    'a_b',
    'a-b',
    'Orders.v2_final-1',
    'z--',
    'heral',
    'Heral-d',
    'my-herald',
    'x.herald',
  ];
  for (const name of valid) {
    it(`accepts ${JSON.stringify(name.length > 20 ? `${name.slice(0, 20)}... (${name.length})` : name)}`, () => {
      assert.doesNotThrow(() => validateName('topic.name', name));
    });
  }

  it('requires a name', () => {
    assertInvalid(() => validateName('topic.name', ''), 'topic.name', 'is required');
  });

  const badLength: Array<[string, number]> = [
    ['a', 1],
    ['ab', 2],
    ['a'.repeat(201), 201],
    ['a'.repeat(1000), 1000],
  ];
  for (const [name, length] of badLength) {
    it(`refuses a name of ${length} characters`, () => {
      assertInvalid(
        () => validateName('subscription.name', name),
        'subscription.name',
        `must be 3 to 200 characters long, not ${length}`,
      );
    });
  }

  it('checks the length before the characters', () => {
    assertInvalid(() => validateName('f', '1!'), 'f', 'must be 3 to 200 characters long, not 2');
  });

  const badFirst = ['1abc', '_abc', '.abc', '-abc', ' abc', 'ébc'];
  for (const name of badFirst) {
    it(`refuses ${JSON.stringify(name)}, which does not start with a letter`, () => {
      assertInvalid(() => validateName('topic.name', name), 'topic.name', `must start with a letter, not "${name[0]}"`);
    });
  }

  const badCharacter: Array<[string, string, number]> = [
    ['ab c', ' ', 3],
    ['abc/def', '/', 4],
    ['orders!', '!', 7],
    ['a!b?c', '!', 2],
    ['abcé', 'é', 4],
    ['ab😀cd', '😀', 3],
    ['ab:c:d', ':', 3],
    ['abc\n', '\n', 4],
    ['a*b*c*', '*', 2],
  ];
  for (const [name, bad, position] of badCharacter) {
    it(`refuses ${JSON.stringify(name)}, naming ${JSON.stringify(bad)} at position ${position}`, () => {
      assertInvalid(
        () => validateName('subscription.topic', name),
        'subscription.topic',
        `may contain only letters, digits, ".", "_" and "-"; found "${bad}" at position ${position}`,
      );
    });
  }

  const reserved = ['herald', 'herald-dlq', 'Herald.x', 'HERALD_topic', 'hErAlDic'];
  for (const name of reserved) {
    it(`refuses the reserved name ${JSON.stringify(name)}`, () => {
      assertInvalid(() => validateName('topic.name', name), 'topic.name', 'names starting with "herald" are reserved');
    });
  }

  it('names the field it was given', () => {
    assertInvalid(
      () => validateName('subscription.dead_letter_policy.dead_letter_topic', 'x'),
      'subscription.dead_letter_policy.dead_letter_topic',
      'must be 3 to 200 characters long, not 1',
    );
  });
});

describe('validateRange', () => {
  const cases: Array<[number, boolean]> = [
    [10, true],
    [11, true],
    [600, true],
    [9, false],
    [601, false],
    [10.5, false],
    [Number.NaN, false],
    [Number.POSITIVE_INFINITY, false],
  ];
  for (const [value, ok] of cases) {
    it(`${ok ? 'accepts' : 'refuses'} ${value} in 10..600`, () => {
      const run = () => validateRange('ack', value, 10, 600, ' s');
      if (ok) assert.doesNotThrow(run);
      else assertInvalid(run, 'ack', `must be between 10 and 600 s, not ${value} s`);
    });
  }

  it('has no unit by default', () => {
    assertInvalid(() => validateRange('n', 0, 1, 5), 'n', 'must be between 1 and 5, not 0');
  });
});

describe('validateFilter', () => {
  const valid = [
    '',
    'attributes:color',
    'attributes.color = "red" AND NOT hasPrefix(attributes.kind, "tmp")',
    `attributes:${'k'.repeat(245)}`,
  ];
  for (const filter of valid) {
    it(`accepts a ${filter.length}-character filter`, () => {
      assert.doesNotThrow(() => validateFilter('subscription.filter', filter));
    });
  }

  const invalid = [
    'attributes.color =',
    'color = "red"',
    '(attributes:a',
    'attributes:a AND attributes:b OR attributes:c',
    `attributes:${'k'.repeat(246)}`,
  ];
  for (const filter of invalid) {
    it(`refuses a bad ${filter.length}-character filter with the parser's reason on the given field`, () => {
      let parserReason = '';
      try {
        parseFilter(filter, { maxLength: 256 });
      } catch (error) {
        assert.ok(error instanceof InvalidArgumentError);
        parserReason = error.reason;
      }
      assert.notEqual(parserReason, '');
      assertInvalid(() => validateFilter('subscription.filter', filter), 'subscription.filter', parserReason);
    });
  }

  it('reports the column of the problem', () => {
    assert.throws(
      () => validateFilter('subscription.filter', '(attributes:a'),
      (error: unknown) => error instanceof InvalidArgumentError && /column 14/.test(error.reason),
    );
  });
});
