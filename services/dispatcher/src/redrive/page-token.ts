import { InvalidArgumentError } from '@herald/errors';

/** A peek's page token: per partition of the dead-letter topic, the next offset to read. */
export function encodePageToken(next: Map<number, number>): string {
  return Buffer.from(JSON.stringify([...next])).toString('base64url');
}

/** @throws InvalidArgumentError naming `page_token` when it is not one {@link encodePageToken} made. */
export function decodePageToken(token: string): Map<number, number> | undefined {
  if (token === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every(
      (entry) =>
        Array.isArray(entry) &&
        entry.length === 2 &&
        entry.every((n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0),
    );
  if (!valid) throw new InvalidArgumentError('page_token', 'is not a token PeekDeadLetters returned');
  return new Map(parsed as Array<[number, number]>);
}
