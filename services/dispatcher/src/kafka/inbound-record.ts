import { type ConsumedRecord, decodeHeraldRecord } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import { TraceAttribute } from '@herald/tracing';
import type { InboundMessage } from '../domain/inbound-message';

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
      messages.push(message);
    } else logger.warn({ partition: record.partition, offset: record.offset }, `record skipped: ${decoded.reason}`);
  }
  return messages;
}
