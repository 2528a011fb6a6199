import { randomBytes } from 'node:crypto';

/** A name no other test of this run (or of an earlier one) uses: `<prefix>-<time>-<random>`. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
