import { randomBytes } from 'node:crypto';

/**
 * Random payloads of one size. Random bytes, so that no layer can compress
 * them; a few distinct ones, so that no layer can cache one.
 */
export function randomPayloads(sizeBytes: number, count = 64): Buffer[] {
  return Array.from({ length: count }, () => randomBytes(sizeBytes));
}

/** A human size: `100 B`, `1 KB`, `10 KB` (KB = 1024 bytes). */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} B`;
}
