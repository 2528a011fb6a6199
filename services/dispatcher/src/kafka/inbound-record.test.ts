import assert from 'node:assert/strict';
import { type ConsumedRecord, encodeHeraldRecord } from '@herald/kafka';
import { createLogger } from '@herald/logging';
import { toInboundMessages } from './inbound-record';
import { applicationAttributes } from './reserved-attributes';

const logger = createLogger({ service: 'test', level: 'silent' });

/** A record as a reader hands it over, from what a Herald writer encodes. */
function consumed(fields: Parameters<typeof encodeHeraldRecord>[0], offset = 7): ConsumedRecord {
  const record = encodeHeraldRecord(fields);
  return {
    partition: 0,
    offset,
    key: record.key === null ? null : Buffer.from(record.key),
    value: record.value,
    headers: Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Buffer.from(v)])),
    timestampMillis: record.timestamp,
  };
}

const message = {
  messageId: 'dl-1',
  data: Buffer.from('payload'),
  attributes: { region: 'eu' },
  orderingKey: '',
  idempotencyKey: '',
  publishTimeMillis: Date.UTC(2026, 4, 2),
};

describe('toInboundMessages', () => {
  it('delivers the dead-letter headers of a dead letter as attributes of the same names', () => {
    const [inbound] = toInboundMessages(
      [
        consumed({
          ...message,
          deadLetter: {
            subscription: 'orders-sub',
            attempts: 5,
            messageId: 'original-id',
            publishTimeMillis: Date.UTC(2026, 4, 1, 10, 0, 0),
          },
        }),
      ],
      logger,
    );
    assert.deepEqual(inbound!.attributes, {
      region: 'eu',
      'herald-dead-letter-subscription': 'orders-sub',
      'herald-dead-letter-attempts': '5',
      'herald-dead-letter-message-id': 'original-id',
      'herald-dead-letter-publish-time': '2026-05-01T10:00:00.000Z',
    });
  });

  it('leaves the attributes of any other message as published', () => {
    const [inbound] = toInboundMessages([consumed(message)], logger);
    assert.deepEqual(inbound!.attributes, { region: 'eu' });
  });

  it('keeps the trace context beside the dead-letter attributes', () => {
    const record = consumed({
      ...message,
      traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      deadLetter: { subscription: 's1', attempts: 5, messageId: 'm', publishTimeMillis: 0 },
    });
    record.headers['herald-tracestate'] = Buffer.from('vendor=1');
    const [inbound] = toInboundMessages([record], logger);
    assert.equal(inbound!.traceContext, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(inbound!.traceState, 'vendor=1');
    assert.equal(inbound!.attributes['herald-dead-letter-subscription'], 's1');
    assert.equal(inbound!.attributes['herald-traceparent'], undefined, 'trace context travels apart from attributes');
  });
});

describe('applicationAttributes', () => {
  it('drops the attributes Herald added and keeps the published ones', () => {
    assert.deepEqual(applicationAttributes({ region: 'eu', 'herald-dead-letter-attempts': '5', heraldic: 'yes' }), {
      region: 'eu',
      heraldic: 'yes',
    });
  });

  it('returns attributes without reserved ones as they are', () => {
    const attributes = { a: '1' };
    assert.equal(applicationAttributes(attributes), attributes);
  });
});
