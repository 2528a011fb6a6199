import { type ConsumedRecord, ReservedHeader, decodeHeraldRecord } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import { TraceAttribute } from '@herald/tracing';
import type { InboundMessage } from '../domain/inbound-message';
import { redriveAddressOf } from './redrive-record';

/**
 * The headers a dead letter carries about its origin, delivered as attributes
 * of the same names: the codec reads them into its own fields and leaves them
 * out of the attributes, and subscribers of a dead-letter topic would not
 * know where a message came from (Pub/Sub puts the same facts in attributes).
 */
export const deadLetterAttributes = [
  ReservedHeader.deadLetterSubscription,
  ReservedHeader.deadLetterAttempts,
  ReservedHeader.deadLetterMessageId,
  ReservedHeader.deadLetterPublishTime,
] as const;

/**
 * Kafka records as the dispatcher's domain holds them. A record of a format
 * this build does not know is left out and logged: the partition reads on, and
 * the offset counts as settled once the messages around it are.
 */
export function toInboundMessages(records: ConsumedRecord[], logger: Logger): InboundMessage[] {
  const messages: InboundMessage[] = [];
  for (const record of records) {
    const decoded = decodeHeraldRecord(record);
    if (decoded.ok) {
      const message: InboundMessage = decoded.record;
      // The codec reads traceparent only; the publisher writes tracestate beside it.
      const traceState = message.traceContext && record.headers[TraceAttribute.tracestate];
      if (traceState) message.traceState = traceState.toString();
      if (decoded.record.deadLetter) message.attributes = withDeadLetterAttributes(record, message.attributes);
      const redrive = redriveAddressOf(record);
      if (redrive) message.redrive = redrive;
      messages.push(message);
    } else logger.warn({ partition: record.partition, offset: record.offset }, `record skipped: ${decoded.reason}`);
  }
  return messages;
}

/**
 * The attributes with the dead-letter headers added, as the record has them.
 * Done once per record here rather than per delivery: filters, Tail and every
 * subscription of the topic see the same attributes.
 */
function withDeadLetterAttributes(record: ConsumedRecord, attributes: Record<string, string>): Record<string, string> {
  const withOrigin = { ...attributes };
  for (const name of deadLetterAttributes) {
    const value = record.headers[name];
    if (value !== undefined) withOrigin[name] = value.toString();
  }
  return withOrigin;
}
