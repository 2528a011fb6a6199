import assert from 'node:assert/strict';
import type { ConsumedRecord, OutgoingRecord } from './consumed-record';
import { ReservedHeader } from './headers';
import { type HeraldRecord, decodeHeraldRecord, encodeHeraldRecord, recordFormatVersion } from './record-codec';

/** What a reader hands over for a record written as `written`, at partition 2, offset 41. */
function asRead(written: OutgoingRecord): ConsumedRecord {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(written.headers)) headers[name] = Buffer.from(value);
  return {
    partition: 2,
    offset: 41,
    key: written.key === null ? null : Buffer.from(written.key),
    value: written.value,
    headers,
    timestampMillis: written.timestamp,
  };
}

const message: HeraldRecord = {
  messageId: 'm-1',
  data: Buffer.from('hello'),
  attributes: { region: 'eu', tier: '' },
  orderingKey: 'customer-7',
  idempotencyKey: 'order-7-1',
  publishTimeMillis: 1_700_000_000_123,
  publisher: 'pub-a',
  traceContext: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
};

describe('record codec', () => {
  describe('encodeHeraldRecord', () => {
    it('keys by ordering key, else idempotency key, else nothing', () => {
      assert.equal(encodeHeraldRecord(message).key, 'customer-7');
      assert.equal(encodeHeraldRecord({ ...message, orderingKey: '' }).key, 'order-7-1');
      assert.equal(encodeHeraldRecord({ ...message, orderingKey: '', idempotencyKey: '' }).key, null);
    });

    it('writes attributes as headers of their own name, beside versioned reserved ones', () => {
      const record = encodeHeraldRecord(message);
      assert.equal(record.headers.region, 'eu');
      assert.equal(record.headers[ReservedHeader.formatVersion], String(recordFormatVersion));
      assert.equal(record.headers[ReservedHeader.messageId], 'm-1');
      assert.equal(record.timestamp, message.publishTimeMillis);
    });

    it('leaves out empty optional fields', () => {
      const record = encodeHeraldRecord({ ...message, orderingKey: '', traceContext: undefined });
      assert.equal(ReservedHeader.orderingKey in record.headers, false);
      assert.equal(ReservedHeader.traceParent in record.headers, false);
      assert.equal(ReservedHeader.deadLetterSubscription in record.headers, false);
    });
  });

  describe('decodeHeraldRecord', () => {
    it('reads back every field it wrote, with position and size', () => {
      const decoded = decodeHeraldRecord(asRead(encodeHeraldRecord(message)));
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.record, {
        ...message,
        partition: 2,
        offset: 41,
        size: 5 + 'region'.length + 'eu'.length + 'tier'.length,
      });
    });

    it('round-trips dead-letter origins', () => {
      const deadLetter = {
        subscription: 'orders-audit',
        attempts: 5,
        messageId: 'm-0',
        publishTimeMillis: 1_699_999_999_000,
      };
      const decoded = decodeHeraldRecord(asRead(encodeHeraldRecord({ ...message, deadLetter })));
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.record.deadLetter, deadLetter);
    });

    it('reads records without a version header (earlier builds, other writers) as version 1', () => {
      const decoded = decodeHeraldRecord({
        partition: 0,
        offset: 7,
        key: null,
        value: Buffer.from('raw'),
        headers: { source: Buffer.from('legacy') },
        timestampMillis: 5,
      });
      assert.ok(decoded.ok);
      assert.equal(decoded.record.messageId, '0-7', 'a stable id from the position');
      assert.deepEqual(decoded.record.attributes, { source: 'legacy' });
      assert.equal(decoded.record.orderingKey, '');
    });

    it('refuses a record of an unknown format version, saying which', () => {
      const written = encodeHeraldRecord(message);
      written.headers[ReservedHeader.formatVersion] = '2';
      const decoded = decodeHeraldRecord(asRead(written));
      assert.equal(decoded.ok, false);
      assert.match(!decoded.ok ? decoded.reason : '', /version "2"/);
    });

    it('treats a tombstone as an empty message', () => {
      const decoded = decodeHeraldRecord({ ...asRead(encodeHeraldRecord(message)), value: null });
      assert.ok(decoded.ok);
      assert.equal(decoded.record.data.length, 0);
    });

    it('ignores reserved headers it does not know', () => {
      const read = asRead(encodeHeraldRecord(message));
      read.headers['herald-future-field'] = Buffer.from('x');
      const decoded = decodeHeraldRecord(read);
      assert.ok(decoded.ok);
      assert.equal('herald-future-field' in decoded.record.attributes, false);
    });
  });
});
