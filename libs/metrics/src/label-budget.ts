/** The label value every name past the budget is folded into. */
export const otherLabel = 'other';

/**
 * Bounds the series a label may create: the first `limit` distinct values
 * (topics, subscriptions) keep their own, every later one is counted under
 * {@link otherLabel}. A value keeps its answer for as long as it is held,
 * so a series never moves between its own name and `other`; releasing a
 * deleted name frees its place for the next new one.
 */
export class LabelBudget {
  private readonly named = new Set<string>();

  constructor(readonly limit: number) {}

  /** The label value to use for `name`. */
  labelOf(name: string): string {
    if (this.named.has(name)) return name;
    if (this.named.size >= this.limit) return otherLabel;
    this.named.add(name);
    return name;
  }

  /** Frees the places of every name not in `present` (gone, or served elsewhere now). */
  retainOnly(present: ReadonlySet<string>): void {
    for (const name of this.named) if (!present.has(name)) this.named.delete(name);
  }

  /** `name` is gone (deleted): its place goes to the next new name. Returns whether it had one. */
  release(name: string): boolean {
    return this.named.delete(name);
  }
}
