import { type LeaseConfirmation, LeaseFailureReason } from '@herald/api';
import type { Timers } from '../timers';

/** Why an ack, nack or deadline change did not take effect. */
export type SettleFailure =
  /** Not an ack id the serving dispatcher issued (after a failover, every earlier one). Permanent. */
  | 'invalid'
  /**
   * The lease ended first (deadline, nack, or its stream ended): the message comes again. Also the answer
   * to a nack or deadline change on a lease already acked: that message is settled and does not come again.
   */
  | 'expired'
  /** The message was delivered again to another stream, whose lease alone can settle it. */
  | 'lease-moved'
  /** Not stored, or no answer before the stream ended: it may or may not come again. */
  | 'unavailable';

/**
 * What became of an ack, nack or deadline change. On an exactly-once
 * subscription `confirmed` is true once the dispatcher said so (for an ack:
 * stored durably; the message is never delivered again). On any other
 * subscription the request was only sent (`confirmed` false): at least once.
 */
export type SettleResult = { ok: true; confirmed: boolean } | { ok: false; reason: SettleFailure; detail: string };

/** The three operations a confirmation answers. */
export type SettleKind = 'ack' | 'nack' | 'modify-deadline';

const reasons: Record<number, SettleFailure> = {
  [LeaseFailureReason.LEASE_FAILURE_REASON_INVALID]: 'invalid',
  [LeaseFailureReason.LEASE_FAILURE_REASON_EXPIRED]: 'expired',
  [LeaseFailureReason.LEASE_FAILURE_REASON_LEASE_MOVED]: 'lease-moved',
  [LeaseFailureReason.LEASE_FAILURE_REASON_UNAVAILABLE]: 'unavailable',
};

interface Waiter {
  generation: number;
  resolve: (result: SettleResult) => void;
}

const confirmed: SettleResult = Object.freeze({ ok: true, confirmed: true });

/**
 * Acks, nacks and deadline changes of an exactly-once subscription waiting
 * for the dispatcher's answer, by ack id. Answers resolve them; a stream that
 * ends fails those it carried (`unavailable`: unknown whether they took).
 */
export class Confirmations {
  private readonly waiting: Record<SettleKind, Map<string, Waiter>> = {
    ack: new Map(),
    nack: new Map(),
    'modify-deadline': new Map(),
  };
  private emptied: Array<() => void> = [];

  /** Operations waiting for an answer. */
  get size(): number {
    return this.waiting.ack.size + this.waiting.nack.size + this.waiting['modify-deadline'].size;
  }

  /** The answer to `kind` on `ackId`, sent on the stream of `generation`. */
  expect(kind: SettleKind, ackId: string, generation: number): Promise<SettleResult> {
    const earlier = this.waiting[kind].get(ackId);
    return new Promise<SettleResult>((resolve) => {
      // The same id twice (a repeated deadline change): both get the one answer.
      const chained = earlier
        ? (result: SettleResult) => {
            earlier.resolve(result);
            resolve(result);
          }
        : resolve;
      this.waiting[kind].set(ackId, { generation, resolve: chained });
    });
  }

  /** Resolves what a response answered; ids nobody waits for (automatic lease extensions) are ignored. */
  answer(kind: SettleKind, confirmation: LeaseConfirmation | undefined): void {
    if (!confirmation) return;
    const waiting = this.waiting[kind];
    for (const ackId of confirmation.ackIds) this.take(waiting, ackId)?.(confirmed);
    for (const failure of confirmation.failures) {
      this.take(
        waiting,
        failure.ackId,
      )?.({
        ok: false,
        reason: reasons[failure.reason] ?? 'unavailable',
        detail: failure.detail,
      });
    }
    this.checkEmpty();
  }

  /** The stream of `generation` ended: its unanswered operations may or may not have taken. */
  failGeneration(generation: number): void {
    this.failWhere((waiter) => waiter.generation === generation, 'the stream ended before the dispatcher answered');
  }

  /** No answer will come any more (the subscriber closed or failed): every operation waiting gets `detail`. */
  failAll(detail: string): void {
    this.failWhere(() => true, detail);
  }

  /** Resolves once nothing waits, or after `timeoutMillis`. */
  async waitUntilEmpty(timeoutMillis: number, timers: Timers): Promise<void> {
    if (this.size === 0) return;
    let timer: unknown;
    await new Promise<void>((resolve) => {
      this.emptied.push(resolve);
      timer = timers.setTimeout(resolve, timeoutMillis);
    });
    timers.clearTimeout(timer);
  }

  private failWhere(matches: (waiter: Waiter) => boolean, detail: string): void {
    const result: SettleResult = { ok: false, reason: 'unavailable', detail };
    for (const waiting of Object.values(this.waiting)) {
      for (const [ackId, waiter] of waiting) {
        if (!matches(waiter)) continue;
        waiting.delete(ackId);
        waiter.resolve(result);
      }
    }
    this.checkEmpty();
  }

  private take(waiting: Map<string, Waiter>, ackId: string): ((result: SettleResult) => void) | undefined {
    const waiter = waiting.get(ackId);
    if (!waiter) return undefined;
    waiting.delete(ackId);
    return waiter.resolve;
  }

  private checkEmpty(): void {
    if (this.size > 0) return;
    for (const resolve of this.emptied.splice(0)) resolve();
  }
}
