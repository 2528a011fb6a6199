/**
 * When an exactly-once subscription's dispatcher may lease messages, by its
 * slot's transactional writer (docs/decisions/0007-exactly-once-delivery.md).
 *
 * Starting the writer fences every earlier owner of the slot: their commits,
 * and so their ack confirmations, fail from then on. Fencing stops a zombie's
 * confirmations but not its deliveries from memory, so leasing is bounded in
 * time too: an owner leases only within `proofMillis` of the start of its last
 * successful commit (a later fence by anyone else comes after that start), and
 * a new owner leases only `proofMillis` after its own fence, when every earlier
 * owner's window has closed; unless the earlier owner handed the slot over
 * cleanly, stopping its leases and storing its state first. The window opens
 * with a commit, never with the fence alone: an owner that leased has written
 * something, so a slot whose log is empty (or ends with a hand-over) was never
 * leased from since.
 *
 * Times are one process's monotonic clock: only durations are compared
 * across processes, so clocks need not agree, only run at about the same rate.
 */
export class OwnershipProof {
  private validUntil = -Infinity;
  private deliverAfter = Infinity;
  private revoked = false;

  constructor(private readonly proofMillis: number) {}

  /**
   * The writer was started (fencing every earlier one) by a call answered at
   * `fencedAt`; `cleanHandover` when nothing was stored since the earlier
   * owner's hand-over (or ever). Leasing still waits for a first commit.
   */
  fenced(fencedAt: number, cleanHandover: boolean): void {
    this.deliverAfter = cleanHandover ? fencedAt : fencedAt + this.proofMillis;
  }

  /** A commit begun at `startedAt` succeeded: nobody had fenced this writer when it reached Kafka. */
  committed(startedAt: number): void {
    if (this.revoked) return;
    this.validUntil = Math.max(this.validUntil, startedAt + this.proofMillis);
  }

  /** The writer failed, was fenced, or is handing over: no more leases. */
  revoke(): void {
    this.revoked = true;
    this.validUntil = -Infinity;
  }

  mayLease(now: number): boolean {
    return now >= this.deliverAfter && now < this.validUntil;
  }

  /**
   * Whether a commit should renew the window now: before the first one, and
   * once a third of it is left, so that one slow commit does not lapse it.
   */
  renewDue(now: number): boolean {
    return !this.revoked && now >= this.validUntil - this.proofMillis / 3;
  }
}
