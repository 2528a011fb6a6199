import { randomPayloads } from './payloads';

/**
 * Bytes at the start of a stamped payload: when the message was (meant to be)
 * sent, as `process.hrtime.bigint()` nanoseconds (8), and its sequence number (4).
 */
export const stampBytes = 12;

/** What a stamped payload says about itself. */
export interface Stamp {
  sequence: number;
  sentAtNanos: bigint;
}

/**
 * Payloads that carry their own send time and sequence number, so that the
 * receiving side of the same process measures publish-to-delivery latency and
 * counts each message once. The rest of each payload is random bytes, as in
 * {@link randomPayloads}. Both the Herald and the raw kafkajs paths carry the
 * same bytes, so neither pays for the stamp more than the other.
 */
export class StampedPayloads {
  private readonly pool: Buffer[];

  constructor(readonly messageBytes: number) {
    if (messageBytes < stampBytes) throw new Error(`stamped payloads need at least ${stampBytes} bytes`);
    this.pool = randomPayloads(messageBytes);
  }

  /** A new payload for message `sequence`, stamped with `sentAtNanos`. */
  make(sequence: number, sentAtNanos: bigint): Buffer {
    const payload = Buffer.allocUnsafe(this.messageBytes);
    this.pool[sequence % this.pool.length]!.copy(payload);
    payload.writeBigInt64BE(sentAtNanos, 0);
    payload.writeUInt32BE(sequence, 8);
    return payload;
  }
}

/** Reads the stamp of a payload made by {@link StampedPayloads}; undefined for anything too short. */
export function readStamp(payload: Buffer | null | undefined): Stamp | undefined {
  if (!payload || payload.length < stampBytes) return undefined;
  return { sentAtNanos: payload.readBigInt64BE(0), sequence: payload.readUInt32BE(8) };
}
