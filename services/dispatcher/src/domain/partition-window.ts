import type { InboundMessage } from './inbound-message';

/** What {@link PartitionWindow.read} finds at a position. */
export type WindowRead =
  | { kind: 'messages'; messages: InboundMessage[] }
  /** Nothing at or after the position yet: wait for the next append. */
  | { kind: 'end' }
  /** The position is before what the window still holds: read it elsewhere. */
  | { kind: 'behind' };

/**
 * What a held message costs beyond its data and attributes: its object, its
 * strings and Buffer objects. Measured at about 1.8 KB of heap for a 100 B
 * message; without it a window of small messages held ten times the memory its
 * bound says (a dispatcher grew to 2 GB behind a backlog of 100 B messages, and
 * spent its time collecting garbage).
 */
export const messageOverheadBytes = 1_024;

/**
 * The most recent messages read from one partition, shared by every
 * subscription reading it on this dispatcher: each reads at its own position,
 * so a partition is fetched and decoded once however many subscriptions
 * follow it. Bounded in bytes; the oldest go first, and a reader left behind
 * them is told so.
 */
export class PartitionWindow {
  private messages: InboundMessage[] = [];
  private head = 0;
  private bytes = 0;
  /** Offsets below this are not held (evicted, or never read here). */
  private startOffset: number;
  /** The offset after the last one read: the position a reader at the end waits at. */
  private endOffset: number;

  constructor(
    start: number,
    private readonly maxBytes: number,
  ) {
    this.startOffset = start;
    this.endOffset = start;
  }

  get start(): number {
    return this.startOffset;
  }

  get end(): number {
    return this.endOffset;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * Adds messages read after the current end, in offset order; evicts the
   * oldest past the bound. Returns how many it evicted: the window is full.
   */
  append(messages: InboundMessage[], readUpTo: number): number {
    let evicted = 0;
    for (const message of messages) {
      if (message.offset < this.endOffset) continue; // fetched again after a reconnect
      this.messages.push(message);
      this.bytes += message.size + messageOverheadBytes;
    }
    this.endOffset = Math.max(this.endOffset, readUpTo);
    // The last message stays whatever its size: a reader at the end must find it.
    while (this.bytes > this.maxBytes && this.messages.length - this.head > 1) {
      const oldest = this.messages[this.head]!;
      this.messages[this.head++] = undefined as unknown as InboundMessage;
      this.bytes -= oldest.size + messageOverheadBytes;
      this.startOffset = oldest.offset + 1;
      evicted++;
    }
    if (this.head > 1024 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
    return evicted;
  }

  /** Up to `max` messages at or after `position`, in offset order. */
  read(position: number, max: number): WindowRead {
    if (position < this.startOffset) return { kind: 'behind' };
    if (position >= this.endOffset) return { kind: 'end' };
    let low = this.head;
    let high = this.messages.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.messages[middle]!.offset < position) low = middle + 1;
      else high = middle;
    }
    if (low >= this.messages.length) return { kind: 'end' };
    return { kind: 'messages', messages: this.messages.slice(low, low + max) };
  }
}
