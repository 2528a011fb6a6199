import { randomBytes } from 'node:crypto';

/**
 * Message ids: a random token drawn once per publisher process, then a counter.
 * Unique across instances and restarts without coordination, cheap on the hot
 * path, and counting up within one publisher, which helps when reading logs.
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
}
