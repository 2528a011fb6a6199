import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@herald/errors';
import { tailStartAtTime } from './tail-start';

describe('tailStartAtTime', () => {
  const refused: Array<[string, number]> = [
    // Tail from year -271821 reached Kafka and ended UNAVAILABLE.
    ['year -271821', -8.64e15],
    ['year 275760', 8.64e15],
    ['before 1970', -1],
    ['year 10000', Date.UTC(10000, 0, 1)],
    ['an invalid Date', Number.NaN],
  ];
  for (const [title, millis] of refused) {
    it(`refuses ${title} with INVALID_ARGUMENT naming the field and the range`, () => {
      assert.throws(
        () => tailStartAtTime('time', millis),
        (error: unknown) =>
          error instanceof InvalidArgumentError &&
          error.field === 'time' &&
          /must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z/.test(error.reason),
      );
    });
  }

  it('accepts both ends of the range', () => {
    assert.deepEqual(tailStartAtTime('time', 0), { kind: 'time', timeMillis: 0 });
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    assert.deepEqual(tailStartAtTime('time', last), { kind: 'time', timeMillis: last });
  });
});
