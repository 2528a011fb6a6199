import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { collectAttribute, parseDuration, parseInteger, parseStartAt, parseTime } from './parse';

describe('option parsers', () => {
  describe('parseInteger', () => {
    it('reads whole numbers from the minimum up', () => {
      assert.equal(parseInteger('6'), 6);
      assert.equal(parseInteger('0', 0), 0);
    });
    for (const bad of ['', 'abc', '1.5', '-3', '0', '1e3', '99999999999999999999']) {
      it(`refuses "${bad}"`, () => assert.throws(() => parseInteger(bad), InvalidArgumentError));
    }
  });

  describe('parseDuration', () => {
    const cases: Array<[string, number]> = [
      ['500ms', 500],
      ['30s', 30_000],
      ['1.5s', 1_500],
      ['5m', 300_000],
      ['1h30m', 5_400_000],
      ['7d', 604_800_000],
      ['10', 10_000],
    ];
    for (const [text, millis] of cases)
      it(`reads ${text} as ${millis} ms`, () => assert.equal(parseDuration(text), millis));
    for (const bad of ['', 'soon', '5 m', 'm5', '1y', '-1s']) {
      it(`refuses "${bad}"`, () => assert.throws(() => parseDuration(bad), InvalidArgumentError));
    }
  });

  describe('parseStartAt', () => {
    it('reads positions and ISO times', () => {
      assert.equal(parseStartAt('earliest'), 'earliest');
      assert.equal(parseStartAt('latest'), 'latest');
      assert.deepEqual(parseStartAt('2026-05-01T10:00:00Z'), new Date('2026-05-01T10:00:00Z'));
    });
    it('refuses anything else', () => {
      assert.throws(() => parseStartAt('yesterday'), InvalidArgumentError);
      assert.throws(() => parseStartAt('2026-13-45'), InvalidArgumentError);
    });
  });

  describe('parseTime', () => {
    const now = Date.parse('2026-05-02T12:00:00Z');
    it('reads ISO times, and durations as that long ago', () => {
      assert.deepEqual(parseTime('2026-05-01T10:00:00Z', now), new Date('2026-05-01T10:00:00Z'));
      assert.deepEqual(parseTime('2h', now), new Date('2026-05-02T10:00:00Z'));
      assert.deepEqual(parseTime('1d', now), new Date('2026-05-01T12:00:00Z'));
    });
    it('refuses anything else, a bare number included (seconds or a year?)', () => {
      for (const bad of ['yesterday', '2026-13-45', '10', 'earliest']) {
        assert.throws(() => parseTime(bad, now), InvalidArgumentError, bad);
      }
    });
  });

  describe('collectAttribute', () => {
    it('gathers repeated key=value pairs; the value may hold "="', () => {
      const first = collectAttribute('region=eu');
      assert.deepEqual(collectAttribute('query=a=b', first), { region: 'eu', query: 'a=b' });
      assert.deepEqual(collectAttribute('empty='), { empty: '' });
    });
    it('refuses a pair without a key or "="', () => {
      assert.throws(() => collectAttribute('=v'), InvalidArgumentError);
      assert.throws(() => collectAttribute('novalue'), InvalidArgumentError);
    });
  });
});
