import type { ConsumedRecord, OutgoingRecord } from './consumed-record';
import { ReservedHeader, reservedHeaderPrefix } from './headers';

/**
 * The version of Herald's record format this build writes and reads. Records
 * without a version header are version 1: those of earlier Herald builds, and
 * those other Kafka clients write to a Herald topic.
 */
export const recordFormatVersion = 1;

/** Where a dead-lettered message came from. */
export interface DeadLetterOrigin {
  subscription: string;
  /** Delivery attempts it failed. */
  attempts: number;
  /** Its id on the source topic. */
  messageId: string;
  /** Its publish time on the source topic, ms since the epoch. */
  publishTimeMillis: number;
}

/** A Herald message as it is kept in Kafka, in Herald's words. */
export interface HeraldRecord {
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
  /** Empty when none. */
  orderingKey: string;
  /** Empty when none. */
  idempotencyKey: string;
  /** The record timestamp. */
  publishTimeMillis: number;
  /** Which publisher instance wrote it (a token), when known. */
  publisher?: string;
  /** W3C trace context (`traceparent`) carried from the publish, when there was one. */
  traceContext?: string;
  /** Set on records of a dead-letter topic. */
  deadLetter?: DeadLetterOrigin;
}

/** A record read back: the message, where it was, and its size for flow control. */
export interface ReadHeraldRecord extends HeraldRecord {
  partition: number;
  offset: number;
  /** Data plus attribute names and values, in bytes. */
  size: number;
}

/** What {@link decodeHeraldRecord} made of a record. */
export type DecodedRecord = { ok: true; record: ReadHeraldRecord } | { ok: false; reason: string };

/**
 * A message as a Kafka record: key = ordering key, else idempotency key (so a
 * retry lands on the same partition, whose owner deduplicates), attributes as
 * headers of their own name beside the reserved `herald-*` ones, timestamp =
 * publish time.
 */
export function encodeHeraldRecord(message: HeraldRecord): OutgoingRecord {
  const headers: Record<string, string | Buffer> = { ...message.attributes };
  headers[ReservedHeader.formatVersion] = formatVersionText;
  headers[ReservedHeader.messageId] = message.messageId;
  if (message.publisher) headers[ReservedHeader.publisher] = message.publisher;
  if (message.orderingKey) headers[ReservedHeader.orderingKey] = message.orderingKey;
  if (message.idempotencyKey) headers[ReservedHeader.idempotencyKey] = message.idempotencyKey;
  if (message.traceContext) headers[ReservedHeader.traceParent] = message.traceContext;
  const origin = message.deadLetter;
  if (origin) {
    headers[ReservedHeader.deadLetterSubscription] = origin.subscription;
    headers[ReservedHeader.deadLetterAttempts] = String(origin.attempts);
    headers[ReservedHeader.deadLetterMessageId] = origin.messageId;
    headers[ReservedHeader.deadLetterPublishTime] = new Date(origin.publishTimeMillis).toISOString();
  }
  return {
    key: message.orderingKey || message.idempotencyKey || null,
    value: message.data,
    headers,
    timestamp: message.publishTimeMillis,
  };
}

const formatVersionText = String(recordFormatVersion);

/**
 * A Kafka record as a Herald message. A record of a format version this build
 * does not know is refused with the reason, for the caller to skip and log:
 * reading on past it keeps every reader live when a newer Herald writes first.
 */
export function decodeHeraldRecord(record: ConsumedRecord): DecodedRecord {
  const attributes: Record<string, string> = {};
  const data = record.value ?? empty;
  let size = data.length;
  let messageId = '';
  let orderingKey = '';
  let idempotencyKey = '';
  let publisher: string | undefined;
  let traceContext: string | undefined;
  let version = formatVersionText;
  let deadLetterSubscription: string | undefined;
  let deadLetterAttempts = '';
  let deadLetterMessageId = '';
  let deadLetterPublishTime = '';
  for (const name in record.headers) {
    const value = record.headers[name]!.toString();
    if (!name.startsWith(reservedHeaderPrefix)) {
      attributes[name] = value;
      size += name.length + value.length;
      continue;
    }
    switch (name) {
      case ReservedHeader.formatVersion:
        version = value;
        break;
      case ReservedHeader.messageId:
        messageId = value;
        break;
      case ReservedHeader.orderingKey:
        orderingKey = value;
        break;
      case ReservedHeader.idempotencyKey:
        idempotencyKey = value;
        break;
      case ReservedHeader.publisher:
        publisher = value;
        break;
      case ReservedHeader.traceParent:
        traceContext = value;
        break;
      case ReservedHeader.deadLetterSubscription:
        deadLetterSubscription = value;
        break;
      case ReservedHeader.deadLetterAttempts:
        deadLetterAttempts = value;
        break;
      case ReservedHeader.deadLetterMessageId:
        deadLetterMessageId = value;
        break;
      case ReservedHeader.deadLetterPublishTime:
        deadLetterPublishTime = value;
        break;
      // Reserved headers of later versions of the same format are ignored.
    }
  }
  if (version !== formatVersionText) {
    return {
      ok: false,
      reason: `record format version ${JSON.stringify(version)}; this build reads ${formatVersionText}`,
    };
  }
  const decoded: ReadHeraldRecord = {
    partition: record.partition,
    offset: record.offset,
    // Records written by something other than Herald's publisher still get a stable id.
    messageId: messageId || `${record.partition}-${record.offset}`,
    data,
    attributes,
    orderingKey,
    idempotencyKey,
    publishTimeMillis: record.timestampMillis,
    size,
  };
  if (publisher !== undefined) decoded.publisher = publisher;
  if (traceContext !== undefined) decoded.traceContext = traceContext;
  if (deadLetterSubscription !== undefined) {
    decoded.deadLetter = {
      subscription: deadLetterSubscription,
      attempts: Number(deadLetterAttempts) || 0,
      messageId: deadLetterMessageId,
      publishTimeMillis: Date.parse(deadLetterPublishTime) || 0,
    };
  }
  return { ok: true, record: decoded };
}

const empty = Buffer.alloc(0);
