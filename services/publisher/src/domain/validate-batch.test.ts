import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@herald/errors';
import type { OutgoingMessage } from './outgoing-message';
import { defaultPublishLimits, type PublishLimits } from './publish-limits';
import { validateBatch } from './validate-batch';

/** Small limits, so that every one can be reached with a few bytes. */
const limits: PublishLimits = {
  maxMessageBytes: 100,
  maxBatchMessages: 3,
  maxBatchBytes: 150,
  maxAttributes: 2,
  maxAttributeKeyBytes: 8,
  maxAttributeValueBytes: 10,
  maxOrderingKeyBytes: 5,
  maxIdempotencyKeyBytes: 4,
};

function message(
  fields: Partial<Omit<OutgoingMessage, 'data'>> & { data?: string | Uint8Array } = {},
): OutgoingMessage {
  const data = fields.data ?? 'x';
  return {
    data: typeof data === 'string' ? Buffer.from(data) : data,
    attributes: fields.attributes ?? {},
    orderingKey: fields.orderingKey ?? '',
    idempotencyKey: fields.idempotencyKey ?? '',
  };
}

const bytes = (count: number) => 'b'.repeat(count);

describe('validateBatch', () => {
  describe('refuses', () => {
    const cases: Array<{
      title: string;
      topic?: string;
      messages: OutgoingMessage[];
      field: string;
      reason: RegExp;
    }> = [
      { title: 'an empty topic name', topic: '', messages: [message()], field: 'topic', reason: /is required/ },
      { title: 'a short topic name', topic: 'ab', messages: [message()], field: 'topic', reason: /3 to 200/ },
      {
        title: 'a topic name with a digit first',
        topic: '9lives',
        messages: [message()],
        field: 'topic',
        reason: /must start with a letter/,
      },
      {
        title: 'a reserved topic name',
        topic: 'herald-log',
        messages: [message()],
        field: 'topic',
        reason: /reserved/,
      },
      { title: 'an empty batch', messages: [], field: 'messages', reason: /must contain at least one message/ },
      {
        title: 'more messages than maxBatchMessages',
        messages: [message(), message(), message(), message()],
        field: 'messages',
        reason: /4 messages exceed the limit of 3 per request \(PUBLISHER_MAX_BATCH_MESSAGES\)/,
      },
      {
        title: 'a message with neither data nor attributes',
        messages: [message(), message({ data: '' })],
        field: 'messages[1]',
        reason: /needs data or at least one attribute/,
      },
      {
        title: 'more attributes than maxAttributes',
        messages: [message({ attributes: { a: '1', b: '2', c: '3' } })],
        field: 'messages[0].attributes',
        reason: /3 attributes exceed the limit of 2 \(PUBLISHER_MAX_ATTRIBUTES\)/,
      },
      {
        title: 'an empty attribute key',
        messages: [message({ attributes: { '': 'v' } })],
        field: 'messages[0].attributes',
        reason: /keys must not be empty/,
      },
      {
        title: 'an attribute key over maxAttributeKeyBytes',
        messages: [message({ attributes: { [bytes(9)]: 'v' } })],
        field: 'messages[0].attributes',
        reason: /is 9 bytes; the limit is 8 \(PUBLISHER_MAX_ATTRIBUTE_KEY_BYTES\)/,
      },
      {
        title: 'an attribute key over the limit in bytes, not characters',
        messages: [message({ attributes: { éééé_: 'v' } })],
        field: 'messages[0].attributes',
        reason: /is 9 bytes/,
      },
      {
        title: 'a reserved attribute key',
        messages: [message({ attributes: { 'herald-x': 'v' } })],
        field: 'messages[0].attributes',
        reason: /key "herald-x" starts with "herald-", which is reserved/,
      },
      {
        title: 'a reserved attribute key in capitals',
        messages: [message({ attributes: { 'HERALD-X': 'v' } })],
        field: 'messages[0].attributes',
        reason: /reserved/,
      },
      {
        title: 'an attribute value over maxAttributeValueBytes',
        messages: [message({ attributes: { kind: bytes(11) } })],
        field: 'messages[0].attributes["kind"]',
        reason: /value is 11 bytes; the limit is 10 \(PUBLISHER_MAX_ATTRIBUTE_VALUE_BYTES\)/,
      },
      {
        title: 'an ordering key over maxOrderingKeyBytes',
        messages: [message({ orderingKey: bytes(6) })],
        field: 'messages[0].ordering_key',
        reason: /is 6 bytes; the limit is 5 \(PUBLISHER_MAX_ORDERING_KEY_BYTES\)/,
      },
      {
        title: 'an ordering key over the limit in bytes, not characters',
        messages: [message({ orderingKey: 'ééé' })],
        field: 'messages[0].ordering_key',
        reason: /is 6 bytes/,
      },
      {
        title: 'an idempotency key over maxIdempotencyKeyBytes',
        messages: [message({ idempotencyKey: bytes(5) })],
        field: 'messages[0].idempotency_key',
        reason: /is 5 bytes; the limit is 4 \(PUBLISHER_MAX_IDEMPOTENCY_KEY_BYTES\)/,
      },
      {
        title: 'a message whose data alone is over maxMessageBytes',
        messages: [message({ data: bytes(101) })],
        field: 'messages[0]',
        reason: /message is 101 bytes; the limit is 100 \(PUBLISHER_MAX_MESSAGE_BYTES\)/,
      },
      {
        title: 'a message over maxMessageBytes with its attributes and keys counted',
        // 80 data + 4 + 10 attribute + 5 ordering key + 4 idempotency key = 103
        messages: [
          message({
            data: bytes(80),
            attributes: { kind: bytes(10) },
            orderingKey: bytes(5),
            idempotencyKey: bytes(4),
          }),
        ],
        field: 'messages[0]',
        reason: /message is 103 bytes; the limit is 100/,
      },
      {
        title: 'a batch over maxBatchBytes, every message within its own limit',
        messages: [message({ data: bytes(80) }), message({ data: bytes(71) })],
        field: 'messages',
        reason: /151 bytes exceed the limit of 150 per request \(PUBLISHER_MAX_BATCH_BYTES\)/,
      },
      {
        title: 'a batch whose third message is bad, naming that one',
        messages: [message(), message(), message({ orderingKey: bytes(6) })],
        field: 'messages[2].ordering_key',
        reason: /is 6 bytes/,
      },
    ];

    for (const { title, topic, messages, field, reason } of cases) {
      it(title, () => {
        assert.throws(
          () => validateBatch(topic ?? 'orders', messages, limits),
          (error: unknown) => {
            assert.ok(error instanceof InvalidArgumentError, `an InvalidArgumentError, not ${String(error)}`);
            assert.equal(error.field, field);
            assert.match(error.reason, reason);
            assert.equal(error.message, `${field}: ${error.reason}`, 'the message starts with the field path');
            return true;
          },
        );
      });
    }
  });

  describe('accepts', () => {
    const cases: Array<{ title: string; messages: OutgoingMessage[]; size: number }> = [
      { title: 'one plain message', messages: [message({ data: 'hello' })], size: 5 },
      {
        title: 'a message with attributes and no data',
        messages: [message({ data: '', attributes: { k: 'v' } })],
        size: 2,
      },
      { title: 'exactly maxBatchMessages messages', messages: [message(), message(), message()], size: 3 },
      {
        title: 'every per-message limit reached exactly',
        messages: [
          message({
            data: bytes(100 - (8 + 10) * 2 - 5 - 4),
            attributes: { [bytes(8)]: bytes(10), [`${bytes(7)}c`]: bytes(10) },
            orderingKey: bytes(5),
            idempotencyKey: bytes(4),
          }),
        ],
        size: 100,
      },
      {
        title: 'a batch of exactly maxBatchBytes',
        messages: [message({ data: bytes(100) }), message({ data: bytes(50) })],
        size: 150,
      },
      {
        title: 'an attribute key that only looks like the reserved prefix',
        messages: [message({ attributes: { heraldic: 'v' } })],
        size: 10,
      },
    ];

    for (const { title, messages, size } of cases) {
      it(`${title}, returning its size`, () => {
        assert.equal(validateBatch('orders', messages, limits), size);
      });
    }

    it('a maximal message under the default limits', () => {
      const big = message({ data: new Uint8Array(defaultPublishLimits.maxMessageBytes) });
      assert.equal(validateBatch('orders', [big], defaultPublishLimits), defaultPublishLimits.maxMessageBytes);
    });
  });
});
