/**
 * When an exactly-once subscription's dispatcher may lease messages, by its
 * slot's transactional writer (docs/decisions/0006-exactly-once-delivery.md).
 *
 * Starting the writer fences every earlier owner of the slot: their commits,
 * and so their ack confirmations, fail from then on. Fencing stops a zombie's
 * confirmations but not its deliveries from memory, so leasing is bounded in
 * time too: an owner leases only within `proofMillis` of the start of its last
 * successful fence or commit (a later fence by anyone else comes after that
 * start), and a new owner leases only `proofMillis` after its own fence, when
 * every earlier owner's window has closed; unless the earlier owner handed the
 * slot over cleanly, stopping its leases and storing its state first.
 *
 * Times are one process's monotonic clock: only durations are compared
 * across processes, so clocks need not agree, only run at about the same rate.
 */
export class OwnershipProof {
  private validUntil = -Infinity;
  private deliverAfter = Infinity;

  constructor(private readonly proofMillis: number) {}

  /**
   * The writer was started (fencing every earlier one) by a call begun at
   * `startedAt` and answered at `fencedAt`; `cleanHandover` when the last
   * thing the earlier owner stored was its hand-over.
   */
  fenced(startedAt: number, fencedAt: number, cleanHandover: boolean): void {
    this.validUntil = startedAt + this.proofMillis;
    this.deliverAfter = cleanHandover ? fencedAt : fencedAt + this.proofMillis;
  }

  /** A commit begun at `startedAt` succeeded: nobody had fenced this writer when it reached Kafka. */
  committed(startedAt: number): void {
    this.validUntil = Math.max(this.validUntil, startedAt + this.proofMillis);
  }

  /** The writer failed, was fenced, or is handing over: no more leases. */
  revoke(): void {
    this.validUntil = -Infinity;
  }

  mayLease(now: number): boolean {
    return now >= this.deliverAfter && now < this.validUntil;
  }

  /** Whether a commit should renew the window now: once a third of it is left, so one slow commit does not lapse it. */
  renewDue(now: number): boolean {
    return this.validUntil !== -Infinity && now >= this.validUntil - this.proofMillis / 3;
  }
}
