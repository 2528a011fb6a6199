/** How received messages look: a table (pull), one line each (tail), or one JSON object each. */
import type { ReceivedMessage as ReceivedMessageProto } from '@herald/api';
import { renderTable } from './output';

/** A received message, from a subscription (the SDK's ReceivedMessage) or a tail (the proto). */
export interface MessageView {
  id: string;
  data: Buffer;
  attributes: Readonly<Record<string, string>>;
  orderingKey: string;
  idempotencyKey: string;
  publishTime: Date;
  /** 0 on a tail, which has no deliveries to count. */
  deliveryAttempt: number;
}

/** How message data is shown: as UTF-8 text, or base64 for binary payloads. */
export type DataEncoding = 'text' | 'base64';

/** The view of a message read by Tail. */
export function viewOfProto(message: ReceivedMessageProto): MessageView {
  return {
    id: message.messageId,
    data: Buffer.from(message.data),
    attributes: message.attributes,
    orderingKey: message.orderingKey,
    idempotencyKey: message.idempotencyKey,
    publishTime: message.publishTime ?? new Date(0),
    deliveryAttempt: message.deliveryAttempt,
  };
}

/** `k=v, k2=v2`. */
export function formatAttributes(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

function dataText(message: MessageView, encoding: DataEncoding): string {
  return encoding === 'base64' ? message.data.toString('base64') : message.data.toString('utf8');
}

/** A message as one JSON object; empty fields are left out. */
export function messageJson(message: MessageView, encoding: DataEncoding): Record<string, unknown> {
  const json: Record<string, unknown> = {
    messageId: message.id,
    publishTime: message.publishTime.toISOString(),
    [encoding === 'base64' ? 'dataBase64' : 'data']: dataText(message, encoding),
  };
  if (Object.keys(message.attributes).length > 0) json.attributes = message.attributes;
  if (message.orderingKey) json.orderingKey = message.orderingKey;
  if (message.idempotencyKey) json.idempotencyKey = message.idempotencyKey;
  if (message.deliveryAttempt > 0) json.deliveryAttempt = message.deliveryAttempt;
  return json;
}

/** Pulled messages as a table. */
export function messagesTable(messages: readonly MessageView[], encoding: DataEncoding): string {
  return renderTable(
    ['#', 'MESSAGE ID', 'PUBLISHED', 'ATTEMPT', 'ATTRIBUTES', 'ORDERING KEY', 'DATA'],
    messages.map((m, i) => [
      i + 1,
      m.id,
      m.publishTime.toISOString(),
      m.deliveryAttempt,
      formatAttributes(m.attributes),
      m.orderingKey,
      dataText(m, encoding),
    ]),
  );
}

/** One tailed message on one line: time, id, ordering key, attributes in brackets, data; two spaces apart. */
export function messageLine(message: MessageView, encoding: DataEncoding): string {
  const attributes = formatAttributes(message.attributes);
  return [
    message.publishTime.toISOString(),
    message.id,
    message.orderingKey && `key=${message.orderingKey}`,
    attributes && `[${attributes}]`,
    dataText(message, encoding),
  ]
    .filter((part) => part !== '')
    .join('  ');
}

/** What publishing gave: each input line with its message id. */
export function publishedTable(results: ReadonlyArray<{ line: number; messageId: string }>): string {
  return renderTable(
    ['LINE', 'MESSAGE ID'],
    results.map((r) => [r.line, r.messageId]),
  );
}
