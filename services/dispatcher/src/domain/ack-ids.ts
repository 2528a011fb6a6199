import { createHmac, randomBytes } from 'node:crypto';

/**
 * Ack ids are opaque tokens: a delivery number and a MAC over it, the
 * subscription and its incarnation, keyed by a secret of this dispatcher
 * process. An ack id cannot be forged, guessed, or replayed on another
 * subscription (or a re-created one of the same name).
 */
export class AckIds {
  constructor(private readonly secret: Buffer = randomBytes(32)) {}

  /** The ack id of delivery `leaseId` on a subscription. */
  encode(scope: string, leaseId: number): string {
    const lease = leaseId.toString(36);
    return `${lease}.${this.mac(scope, lease)}`;
  }

  /** The delivery number an ack id stands for, or undefined for one this process did not issue for `scope`. */
  decode(scope: string, ackId: string): number | undefined {
    const dot = ackId.indexOf('.');
    if (dot <= 0 || dot > 12) return undefined;
    const lease = ackId.slice(0, dot);
    if (ackId.slice(dot + 1) !== this.mac(scope, lease)) return undefined;
    const leaseId = parseInt(lease, 36);
    return Number.isSafeInteger(leaseId) ? leaseId : undefined;
  }

  private mac(scope: string, lease: string): string {
    return createHmac('sha256', this.secret).update(scope).update('\0').update(lease).digest('base64url').slice(0, 16);
  }
}
