import assert from 'node:assert/strict';
import { type ConsumedRecord, type OutgoingRecord, decodeHeraldRecord, partitionOfKey } from '@herald/kafka';
import type { InboundMessage } from '../domain/inbound-message';
import { redriveAddressOf, redriveCopy, redriveTarget } from './redrive-record';

/** A dead letter as the dispatcher reads it from the dead-letter topic. */
function deadLetter(fields: Partial<InboundMessage> = {}): InboundMessage {
  return {
    partition: 0,
    offset: 41,
    messageId: 'dead-letter-id',
    data: Buffer.from('order 7'),
    attributes: {
      region: 'eu',
      'herald-dead-letter-subscription': 'orders-sub',
      'herald-dead-letter-attempts': '5',
      'herald-dead-letter-message-id': 'original-id',
      'herald-dead-letter-publish-time': '2026-05-01T10:00:00.000Z',
    },
    orderingKey: '',
    idempotencyKey: 'order-7',
    publishTimeMillis: Date.UTC(2026, 4, 1, 11),
    size: 10,
    deadLetter: { subscription: 'orders-sub', attempts: 5, messageId: 'original-id', publishTimeMillis: 0 },
    ...fields,
  };
}

function asConsumed(record: OutgoingRecord): ConsumedRecord {
  return {
    partition: 1,
    offset: 9,
    key: record.key === null ? null : Buffer.from(record.key),
    value: record.value,
    headers: Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Buffer.from(v)])),
    timestampMillis: record.timestamp,
  };
}

describe('redriveCopy', () => {
  const address = { target: redriveTarget('orders-sub', '12'), source: 'orders-dead@1000/0/41' };
  const now = Date.UTC(2026, 4, 2);

  it('is the message as first published, under its original id, published now', () => {
    const decoded = decodeHeraldRecord(asConsumed(redriveCopy(deadLetter(), address, 'redrive-x', now)));
    assert.ok(decoded.ok);
    const { record } = decoded;
    assert.equal(record.messageId, 'original-id');
    assert.equal(record.data.toString(), 'order 7');
    assert.deepEqual(record.attributes, { region: 'eu' }, 'without the dead-letter attributes');
    assert.equal(record.idempotencyKey, 'order-7');
    assert.equal(record.publishTimeMillis, now);
    assert.equal(record.deadLetter, undefined);
  });

  it('is addressed to one subscription and names the dead letter it copies', () => {
    const copy = asConsumed(redriveCopy(deadLetter(), address, 'redrive-x', now));
    assert.deepEqual(redriveAddressOf(copy), address);
    assert.equal(redriveTarget('orders-sub', '12'), 'orders-sub@12');
  });

  it('is keyed by its source, so a copy written twice lands on one partition', () => {
    const copy = redriveCopy(deadLetter(), address, 'redrive-x', now);
    assert.equal(copy.key, address.source);
    const other = redriveCopy(deadLetter(), { ...address, source: 'orders-dead@1000/0/42' }, 'redrive-y', now + 5);
    assert.notEqual(other.key, copy.key);
    assert.equal(partitionOfKey(Buffer.from(copy.key!), 6), partitionOfKey(Buffer.from(address.source), 6));
  });

  it('keeps the ordering key as its key, so it joins its key’s partition', () => {
    const copy = redriveCopy(deadLetter({ orderingKey: 'customer-3' }), address, 'redrive-x', now);
    assert.equal(copy.key, 'customer-3');
  });
});

describe('redriveAddressOf', () => {
  it('is undefined for a record a publisher wrote', () => {
    assert.equal(
      redriveAddressOf({ partition: 0, offset: 0, key: null, value: null, headers: {}, timestampMillis: 0 }),
      undefined,
    );
  });
});
