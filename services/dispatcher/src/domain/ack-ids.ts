import { hash, randomBytes } from 'node:crypto';

/**
 * Ack ids are opaque tokens: a delivery number and a MAC over it, the
 * subscription and its incarnation, keyed by a secret of this dispatcher
 * process. An ack id cannot be forged, guessed, or replayed on another
 * subscription (or a re-created one of the same name).
 */
export class AckIds {
  private readonly key: string;

  constructor(secret: Buffer = randomBytes(32)) {
    this.key = secret.toString('hex');
  }

  /** The ack id of delivery `leaseId` on a subscription. */
  encode(scope: string, leaseId: number): string {
    const lease = leaseId.toString(36);
    return `${lease}.${this.mac(scope, lease)}`;
  }

  /** The delivery number an ack id stands for, or undefined for one this process did not issue for `scope`. */
  decode(scope: string, ackId: string): number | undefined {
    const leaseId = AckIds.leaseIdOf(ackId);
    return leaseId !== undefined && ackId === this.encode(scope, leaseId) ? leaseId : undefined;
  }

  /** The delivery number an ack id claims, unverified: cheap, for a lookup that then compares the whole id. */
  static leaseIdOf(ackId: string): number | undefined {
    const dot = ackId.indexOf('.');
    if (dot <= 0 || dot > 12) return undefined;
    const leaseId = parseInt(ackId.slice(0, dot), 36);
    return Number.isSafeInteger(leaseId) ? leaseId : undefined;
  }

  // SHA-256 over secret, scope and lease, truncated to 96 bits: a MAC (truncation rules out length
  // extension), and a one-shot native call, several times cheaper than an Hmac object per delivery,
  // which profiles showed as a sixth of the dispatcher's CPU.
  private mac(scope: string, lease: string): string {
    return hash('sha256', `${this.key}\0${scope}\0${lease}`, 'base64url').slice(0, 16);
  }
}
