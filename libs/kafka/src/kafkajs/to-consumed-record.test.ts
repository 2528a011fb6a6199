import assert from 'node:assert/strict';
import type { KafkaMessage } from 'kafkajs';
import { toConsumedRecord } from './to-consumed-record';

function message(fields: Partial<KafkaMessage> = {}): KafkaMessage {
  return {
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    timestamp: '1700000000123',
    attributes: 0,
    offset: '42',
    headers: {},
    ...fields,
  } as KafkaMessage;
}

describe('toConsumedRecord', () => {
  it('keeps partition, offset, key, value and timestamp as numbers and buffers', () => {
    assert.deepEqual(toConsumedRecord(3, message()), {
      partition: 3,
      offset: 42,
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: {},
      timestampMillis: 1_700_000_000_123,
    });
  });

  it('keeps a null key and a tombstone as null', () => {
    const record = toConsumedRecord(0, message({ key: null, value: null }));
    assert.equal(record.key, null);
    assert.equal(record.value, null);
  });

  it('takes the last value of a repeated header, every value as a Buffer', () => {
    const record = toConsumedRecord(
      0,
      message({ headers: { once: Buffer.from('a'), twice: [Buffer.from('b'), 'c'], text: 'd', none: undefined } }),
    );
    assert.deepEqual(record.headers, { once: Buffer.from('a'), twice: Buffer.from('c'), text: Buffer.from('d') });
  });

  it('reads a record without headers (an old message format)', () => {
    const old = { ...message(), headers: undefined, size: 10 } as unknown as KafkaMessage;
    assert.deepEqual(toConsumedRecord(0, old).headers, {});
  });
});
