/**
 * A set of offsets of one partition, as sorted, disjoint, non-adjacent
 * half-open ranges `[from, to)`. Offsets a redrive is done with arrive mostly
 * in order, and records of other subscriptions in a shared dead-letter topic
 * fill the gaps between one subscription's, so a whole redrive usually stays
 * one range; a filter that leaves every other dead letter behind costs one
 * range per moved message, which is still small beside the messages.
 */
export class OffsetRanges {
  private readonly ranges: Array<[number, number]>;

  constructor(ranges: ReadonlyArray<readonly [number, number]> = []) {
    this.ranges = [];
    for (const [from, to] of ranges) this.addRange(from, to);
  }

  has(offset: number): boolean {
    const i = this.indexAfter(offset) - 1;
    return i >= 0 && offset < this.ranges[i]![1];
  }

  add(offset: number): void {
    this.addRange(offset, offset + 1);
  }

  /** Adds every offset in `[from, to)`. */
  addRange(from: number, to: number): void {
    if (!(from < to)) return;
    const ranges = this.ranges;
    const last = ranges[ranges.length - 1];
    // The usual case: at or past the end.
    if (!last || from > last[1]) {
      ranges.push([from, to]);
      return;
    }
    if (from >= last[0]) {
      last[1] = Math.max(last[1], to);
      return;
    }
    // Every range that touches [from, to) merges into one.
    let first = this.indexAfter(from) - 1;
    if (first < 0 || ranges[first]![1] < from) first++;
    let end = first;
    let mergedFrom = from;
    let mergedTo = to;
    while (end < ranges.length && ranges[end]![0] <= to) {
      mergedFrom = Math.min(mergedFrom, ranges[end]![0]);
      mergedTo = Math.max(mergedTo, ranges[end]![1]);
      end++;
    }
    ranges.splice(first, end - first, [mergedFrom, mergedTo]);
  }

  /** The first offset at or after `offset` that is not in the set. */
  nextAbsent(offset: number): number {
    const i = this.indexAfter(offset) - 1;
    return i >= 0 && offset < this.ranges[i]![1] ? this.ranges[i]![1] : offset;
  }

  /** How many offsets of `[from, to)` are in the set. */
  countWithin(from: number, to: number): number {
    let count = 0;
    for (const [start, end] of this.ranges) {
      if (end <= from) continue;
      if (start >= to) break;
      count += Math.min(end, to) - Math.max(start, from);
    }
    return count;
  }

  get size(): number {
    return this.ranges.length;
  }

  toJSON(): Array<[number, number]> {
    return this.ranges.map(([from, to]) => [from, to]);
  }

  /** Index of the first range starting after `offset`. */
  private indexAfter(offset: number): number {
    let low = 0;
    let high = this.ranges.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.ranges[middle]![0] <= offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
