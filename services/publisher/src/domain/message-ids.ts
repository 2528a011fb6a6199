import { hash, randomBytes } from 'node:crypto';

/**
 * Message ids: a random token drawn once per publisher process, then a counter.
 * Unique across instances and restarts without coordination, cheap on the hot
 * path, and counting up within one publisher, which helps when reading logs.
 *
 * A message with an idempotency key gets an id derived from its topic and key
 * instead: a client that retries through another instance (its first attempt
 * may have been written after all) then gets the same id, and subscribers see
 * the message under the id its publisher was given whichever copy they get,
 * as NATS JetStream answers a repeated message id with the first one's sequence.
 */
export class MessageIdGenerator {
  private next = 0;

  constructor(private readonly token: string = randomBytes(6).toString('hex')) {}

  /** The process's token, also written as the record's `herald-publisher` header. */
  get publisherToken(): string {
    return this.token;
  }

  nextId(): string {
    return `${this.token}-${(this.next++).toString(36)}`;
  }

  /** The id of a message on `topic`: derived from its idempotency key when it has one. */
  idFor(topic: string, idempotencyKey: string): string {
    if (!idempotencyKey) return this.nextId();
    // 128 bits: no two keys share an id in practice; the `k` keeps them apart from counter ids.
    return `k${hash('sha256', `${topic}\u0000${idempotencyKey}`, 'base64url').slice(0, 22)}`;
  }
}
