import { InvalidArgumentError } from '@herald/errors';
import { validateResourceName } from '@herald/resource-names';
import type { OutgoingMessage } from './outgoing-message';
import type { PublishLimits } from './publish-limits';

/** Attribute keys may not start with this: Herald's own record headers do. */
const reservedPrefix = 'herald-';

/**
 * Checks a whole batch before anything is written: one bad message rejects the
 * batch, and the error names the message, the field and the limit.
 *
 * @returns the batch's size in bytes.
 * @throws InvalidArgumentError naming the first offending field.
 */
export function validateBatch(topic: string, messages: OutgoingMessage[], limits: PublishLimits): number {
  validateResourceName('topic', topic);
  if (messages.length === 0) throw new InvalidArgumentError('messages', 'must contain at least one message');
  if (messages.length > limits.maxBatchMessages) {
    throw new InvalidArgumentError(
      'messages',
      `${messages.length} messages exceed the limit of ${limits.maxBatchMessages} per request (PUBLISHER_MAX_BATCH_MESSAGES)`,
    );
  }
  let total = 0;
  messages.forEach((message, index) => {
    total += validateMessage(`messages[${index}]`, message, limits);
  });
  if (total > limits.maxBatchBytes) {
    throw new InvalidArgumentError(
      'messages',
      `${total} bytes exceed the limit of ${limits.maxBatchBytes} per request (PUBLISHER_MAX_BATCH_BYTES)`,
    );
  }
  return total;
}

function validateMessage(field: string, message: OutgoingMessage, limits: PublishLimits): number {
  const keys = Object.keys(message.attributes);
  if (message.data.length === 0 && keys.length === 0) {
    throw new InvalidArgumentError(field, 'a message needs data or at least one attribute');
  }
  if (keys.length > limits.maxAttributes) {
    throw new InvalidArgumentError(
      `${field}.attributes`,
      `${keys.length} attributes exceed the limit of ${limits.maxAttributes} (PUBLISHER_MAX_ATTRIBUTES)`,
    );
  }
  let size = message.data.length;
  for (const key of keys) {
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(message.attributes[key]!);
    if (keyBytes === 0) throw new InvalidArgumentError(`${field}.attributes`, 'keys must not be empty');
    if (keyBytes > limits.maxAttributeKeyBytes) {
      throw new InvalidArgumentError(
        `${field}.attributes`,
        `key "${key.length > 32 ? `${key.slice(0, 32)}...` : key}" is ${keyBytes} bytes; the limit is ${limits.maxAttributeKeyBytes} (PUBLISHER_MAX_ATTRIBUTE_KEY_BYTES)`,
      );
    }
    if (key.toLowerCase().startsWith(reservedPrefix)) {
      throw new InvalidArgumentError(
        `${field}.attributes`,
        `key "${key}" starts with "${reservedPrefix}", which is reserved`,
      );
    }
    if (valueBytes > limits.maxAttributeValueBytes) {
      throw new InvalidArgumentError(
        `${field}.attributes["${key}"]`,
        `value is ${valueBytes} bytes; the limit is ${limits.maxAttributeValueBytes} (PUBLISHER_MAX_ATTRIBUTE_VALUE_BYTES)`,
      );
    }
    size += keyBytes + valueBytes;
  }
  const orderingKeyBytes = Buffer.byteLength(message.orderingKey);
  if (orderingKeyBytes > limits.maxOrderingKeyBytes) {
    throw new InvalidArgumentError(
      `${field}.ordering_key`,
      `is ${orderingKeyBytes} bytes; the limit is ${limits.maxOrderingKeyBytes} (PUBLISHER_MAX_ORDERING_KEY_BYTES)`,
    );
  }
  const idempotencyKeyBytes = Buffer.byteLength(message.idempotencyKey);
  if (idempotencyKeyBytes > limits.maxIdempotencyKeyBytes) {
    throw new InvalidArgumentError(
      `${field}.idempotency_key`,
      `is ${idempotencyKeyBytes} bytes; the limit is ${limits.maxIdempotencyKeyBytes} (PUBLISHER_MAX_IDEMPOTENCY_KEY_BYTES)`,
    );
  }
  size += orderingKeyBytes + idempotencyKeyBytes;
  if (size > limits.maxMessageBytes) {
    throw new InvalidArgumentError(
      field,
      `message is ${size} bytes; the limit is ${limits.maxMessageBytes} (PUBLISHER_MAX_MESSAGE_BYTES)`,
    );
  }
  return size;
}
