import type { Filter } from '@herald/filter';
import type { InboundMessage } from '../domain/inbound-message';

/** Which dead letters of a dead-letter topic a peek or a redrive takes. */
export interface Selection {
  /** The source subscription, as the dead letters name it. */
  subscription: string;
  /** On the attributes a subscriber of the dead-letter topic sees (`herald-dead-letter-*` included). */
  filter: Filter;
  /** Dead-lettered at or after, ms since the epoch. */
  startMillis: number | undefined;
  /** Dead-lettered before. */
  endMillis: number | undefined;
}

/**
 * What a redrive makes of one record of the dead-letter topic:
 * - `take`: a dead letter of the subscription the selection wants;
 * - `leave`: one of the subscription's, left out by the filter or time range
 *   (a later redrive may want it);
 * - `foreign`: not the subscription's (another's dead letter, or not a dead
 *   letter at all), which no redrive of this subscription will ever want.
 */
export type Verdict = 'take' | 'leave' | 'foreign';

/** `message` as read from the dead-letter topic: its attributes are the delivered ones, dead-letter ones included. */
export function judge(selection: Selection, message: InboundMessage): Verdict {
  if (message.deadLetter?.subscription !== selection.subscription) return 'foreign';
  const time = message.publishTimeMillis;
  if (selection.startMillis !== undefined && time < selection.startMillis) return 'leave';
  if (selection.endMillis !== undefined && time >= selection.endMillis) return 'leave';
  return selection.filter.matches(message.attributes) ? 'take' : 'leave';
}
