import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@herald/errors';
import { characterCount, columnAt, filterError } from './filter-error';

describe('filterError', () => {
  it('is an InvalidArgumentError naming the filter field', () => {
    const error = filterError('bad');
    assert.ok(error instanceof InvalidArgumentError);
    assert.equal(error.field, 'filter');
    assert.equal(error.reason, 'bad');
  });
});

describe('columnAt', () => {
  const cases: Array<[string, string, number, number]> = [
    ['the first character is column 1', 'abc', 0, 1],
    ['counts ASCII one per character', 'abc', 2, 3],
    ['the end of the text is one past the last column', 'abc', 3, 4],
    ['an emoji is one column, not two', '"😀" x', 4, 4],
    ['a lone high surrogate is one column', '\ud83d x', 2, 3],
  ];
  for (const [title, text, offset, column] of cases) {
    it(title, () => assert.equal(columnAt(text, offset), column));
  }
});

describe('characterCount', () => {
  const cases: Array<[string, number]> = [
    ['', 0],
    ['abc', 3],
    ['😀😀', 2],
    ['é', 1],
  ];
  for (const [text, count] of cases) {
    it(`counts ${JSON.stringify(text)} as ${count}`, () => assert.equal(characterCount(text), count));
  }
});
