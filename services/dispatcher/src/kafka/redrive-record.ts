import { type ConsumedRecord, type OutgoingRecord, encodeHeraldRecord } from '@herald/kafka';
import type { InboundMessage } from '../domain/inbound-message';
import { applicationAttributes } from './reserved-attributes';

/**
 * Headers of a copy a redrive writes back to a dead letter's source topic.
 * The codec ignores reserved headers it does not know, so they are read and
 * written here, beside it.
 */
export const RedriveHeader = {
  /** `<subscription>@<create revision>`: the one subscription that delivers the copy; all others settle it unseen. */
  target: 'herald-redrive-target',
  /** The dead letter it copies, `<dead-letter topic>@<creation>/<partition>/<offset>`: its dedup key, and the proof of the move. */
  source: 'herald-redrive-source',
} as const;

/** Who a redriven copy is for, and which dead letter it copies. */
export interface RedriveAddress {
  target: string;
  source: string;
}

/**
 * A subscription as copies address it. The create revision tells one
 * incarnation of a name from the next: a subscription deleted and created
 * again does not receive, on a replay, what was moved back to its predecessor.
 */
export function redriveTarget(subscription: string, createRevision: string): string {
  return `${subscription}@${createRevision}`;
}

/** The address of a redriven copy; undefined for any other record. */
export function redriveAddressOf(record: ConsumedRecord): RedriveAddress | undefined {
  const target = record.headers[RedriveHeader.target];
  if (target === undefined) return undefined;
  return { target: target.toString(), source: record.headers[RedriveHeader.source]?.toString() ?? '' };
}

/**
 * The copy of a dead letter that goes back to its source topic: the message
 * as first published (its id, data, attributes and keys), published now, for
 * the one subscription of `address`. Without an ordering key the copy is keyed
 * by its source, so a copy written twice lands twice on one partition, whose
 * dedup window catches the second.
 */
export function redriveCopy(
  deadLetter: InboundMessage,
  address: RedriveAddress,
  publisher: string,
  nowMillis: number,
): OutgoingRecord {
  const record = encodeHeraldRecord({
    messageId: deadLetter.deadLetter?.messageId || deadLetter.messageId,
    data: deadLetter.data,
    attributes: applicationAttributes(deadLetter.attributes),
    orderingKey: deadLetter.orderingKey,
    idempotencyKey: deadLetter.idempotencyKey,
    publishTimeMillis: nowMillis,
    publisher,
    traceContext: deadLetter.traceContext,
  });
  record.headers[RedriveHeader.target] = address.target;
  record.headers[RedriveHeader.source] = address.source;
  if (!deadLetter.orderingKey) record.key = address.source;
  return record;
}
