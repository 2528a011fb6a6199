import { hash } from 'node:crypto';

/** Words of a key's fingerprint: 128 bits of its SHA-256, so two keys sharing one never happens in practice. */
const fingerprintWords = 4;
// Small: every subscription has a window per partition, and most see few keys; the ring doubles as it fills.
const initialCapacity = 8;
const noWords = new Uint32Array(0);
const noNumbers = new Float64Array(0);
/**
 * The fingerprint being looked up. One for all windows (lookups never
 * interleave): a dispatcher has a window per partition of every subscription,
 * and each typed array costs a few hundred bytes of bookkeeping beyond its data.
 */
const scratchKey = new Uint32Array(fingerprintWords);

/**
 * Idempotency keys seen recently on one partition. Messages that share an
 * idempotency key share a partition (it is their record key), so the
 * partition's owner alone can tell a repeat: same key, a different (later)
 * offset, published within the window of the first.
 *
 * A window holds every key published within it (ten minutes at 10,000 msg/s
 * is six million), so it keeps no JavaScript object per key: keys as strings
 * in a Map measured 550 bytes each and a 2.6 s full garbage collection at
 * three million, which stalled every delivery of the dispatcher. Here each key
 * is a 128-bit fingerprint in typed arrays the collector does not walk: a ring
 * of entries in arrival order (evicted from the front) and an open-addressing
 * index from fingerprint to the newest entry of that key.
 */
export class DedupWindow {
  /** 0 until the first key: most partitions of most subscriptions never see one. */
  private capacity = 0;
  /** The ring: entry at position p has fingerprint words [4p, 4p+4), and its offset and publish time at [2p, 2p+1]. */
  private fingerprints = noWords;
  private numbers = noNumbers;
  /** Sequence numbers of the oldest entry and of the next one; position = sequence % capacity. */
  private head = 0;
  private tail = 0;
  /**
   * Slots holding ring position + 1 of a key's newest entry, 0 when empty;
   * linear probing, at least twice as many slots as the ring has entries.
   */
  private index = noWords;
  private indexed = 0;

  constructor(private readonly windowMillis: number) {}

  /** Records a message and says whether it repeats an earlier one. */
  isRepeat(key: string, offset: number, publishTimeMillis: number): boolean {
    if (!key || this.windowMillis <= 0) return false;
    if (this.capacity === 0) this.allocate(initialCapacity);
    this.fingerprint(key);
    let slot = this.find();
    const position = this.index[slot]! - 1;
    if (position >= 0) {
      const firstOffset = this.numbers[2 * position]!;
      if (firstOffset !== offset && publishTimeMillis - this.numbers[2 * position + 1]! <= this.windowMillis) {
        return firstOffset < offset;
      }
    }
    // Recorded again (a re-read, or a copy past the window): the newest entry stands, evicted by its new time.
    if (this.tail - this.head === this.capacity) {
      this.growRing();
      slot = this.find();
    }
    const appended = this.append(offset, publishTimeMillis);
    if (this.index[slot] === 0) this.indexed++;
    this.index[slot] = appended + 1;
    this.evictBefore(publishTimeMillis - this.windowMillis);
    return false;
  }

  /** Keys remembered. */
  get size(): number {
    return this.indexed;
  }

  private fingerprint(key: string): void {
    // As a 'binary' (latin1) string, one char per byte: measured several times faster than asking for a Buffer.
    const digest = hash('sha256', key, 'binary');
    for (let word = 0; word < fingerprintWords; word++) {
      const at = word * 4;
      scratchKey[word] =
        digest.charCodeAt(at) |
        (digest.charCodeAt(at + 1) << 8) |
        (digest.charCodeAt(at + 2) << 16) |
        (digest.charCodeAt(at + 3) << 24);
    }
  }

  /** The slot of the fingerprint at `words[at..]`, or the empty slot where it would go. */
  private find(words: Uint32Array = scratchKey, at = 0): number {
    const mask = this.index.length - 1;
    const fingerprints = this.fingerprints;
    let slot = words[at]! & mask;
    for (;;) {
      const stored = this.index[slot]!;
      if (stored === 0) return slot;
      const base = (stored - 1) * fingerprintWords;
      if (
        fingerprints[base] === words[at] &&
        fingerprints[base + 1] === words[at + 1] &&
        fingerprints[base + 2] === words[at + 2] &&
        fingerprints[base + 3] === words[at + 3]
      ) {
        return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  private append(offset: number, publishTimeMillis: number): number {
    const position = this.tail % this.capacity;
    this.fingerprints.set(scratchKey, position * fingerprintWords);
    this.numbers[2 * position] = offset;
    this.numbers[2 * position + 1] = publishTimeMillis;
    this.tail++;
    return position;
  }

  /**
   * Drops entries from the front while they are older than the cutoff. Publish
   * times only roughly follow arrival order, so this stops at the first key
   * inside the window, as the window is defined by arrival. An entry of a key
   * recorded again since is passed over whatever its time: only a key's newest
   * entry stands for it, so that a re-read does not hold back older keys.
   */
  private evictBefore(cutoffMillis: number): void {
    while (this.head < this.tail) {
      const position = this.head % this.capacity;
      const slot = this.find(this.fingerprints, position * fingerprintWords);
      const current = this.index[slot] === position + 1;
      if (current) {
        if (this.numbers[2 * position + 1]! >= cutoffMillis) break;
        this.remove(slot);
      }
      this.head++;
    }
  }

  /** Empties a slot, moving later entries of its probe run back so every lookup still finds them. */
  private remove(slot: number): void {
    const index = this.index;
    const mask = index.length - 1;
    let hole = slot;
    let next = slot;
    for (;;) {
      next = (next + 1) & mask;
      const stored = index[next]!;
      if (stored === 0) break;
      const home = this.fingerprints[(stored - 1) * fingerprintWords]! & mask;
      // The entry at `next` stays when its home lies cyclically in (hole, next].
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      index[hole] = stored;
      hole = next;
    }
    index[hole] = 0;
    this.indexed--;
  }

  /**
   * Empty ring and index for `capacity` entries, in views of one buffer: each
   * buffer costs a few hundred bytes of bookkeeping beyond its data, and most
   * windows of an idle subscription hold a key or two.
   */
  private allocate(capacity: number): void {
    const numbersBytes = capacity * 2 * Float64Array.BYTES_PER_ELEMENT;
    const fingerprintBytes = capacity * fingerprintWords * Uint32Array.BYTES_PER_ELEMENT;
    const buffer = new ArrayBuffer(numbersBytes + fingerprintBytes + capacity * 2 * Uint32Array.BYTES_PER_ELEMENT);
    this.capacity = capacity;
    this.numbers = new Float64Array(buffer, 0, capacity * 2);
    this.fingerprints = new Uint32Array(buffer, numbersBytes, capacity * fingerprintWords);
    this.index = new Uint32Array(buffer, numbersBytes + fingerprintBytes, capacity * 2);
  }

  /** Doubles the ring; entries keep their sequence numbers, so their positions and the index change. */
  private growRing(): void {
    const old = { capacity: this.capacity, fingerprints: this.fingerprints, numbers: this.numbers, index: this.index };
    const capacity = old.capacity * 2;
    this.allocate(capacity);
    for (let sequence = this.head; sequence < this.tail; sequence++) {
      const from = sequence % old.capacity;
      const to = sequence % capacity;
      this.fingerprints.set(
        old.fingerprints.subarray(from * fingerprintWords, (from + 1) * fingerprintWords),
        to * fingerprintWords,
      );
      this.numbers[2 * to] = old.numbers[2 * from]!;
      this.numbers[2 * to + 1] = old.numbers[2 * from + 1]!;
    }
    const oldHead = this.head % old.capacity;
    const moved = (position: number) => (this.head + ((position - oldHead + old.capacity) % old.capacity)) % capacity;
    const indexed = old.index.filter((stored) => stored !== 0);
    for (const stored of indexed) {
      const position = moved(stored - 1);
      this.index[this.find(this.fingerprints, position * fingerprintWords)] = position + 1;
    }
  }
}
