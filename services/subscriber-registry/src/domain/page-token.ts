import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@herald/errors';

/**
 * Page tokens are opaque to callers: the list they belong to, the last name
 * returned, and a checksum, so that a token edited by hand or taken from
 * another list is refused rather than silently listing something else.
 */
interface TokenBody {
  list: string;
  after: string;
}

function checksum(body: string): string {
  return createHash('sha256').update('herald-page-token/v1:').update(body).digest('base64url').slice(0, 12);
}

/** A token for the page after `after` of `list` (for example `topics`, `subscriptions:orders`). */
export function encodePageToken(list: string, after: string): string {
  const body = JSON.stringify({ list, after } satisfies TokenBody);
  return `${Buffer.from(body).toString('base64url')}.${checksum(body)}`;
}

/**
 * The name to list after, or '' for the first page.
 *
 * @throws InvalidArgumentError for a malformed or forged token, or one from another list.
 */
export function decodePageToken(list: string, token: string): string {
  if (token === '') return '';
  const [encoded, sum, extra] = token.split('.');
  if (!encoded || !sum || extra !== undefined)
    throw new InvalidArgumentError('page_token', 'is not a token this API issued');
  const body = Buffer.from(encoded, 'base64url').toString('utf8');
  if (checksum(body) !== sum) throw new InvalidArgumentError('page_token', 'is not a token this API issued');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new InvalidArgumentError('page_token', 'is not a token this API issued');
  }
  if (!isTokenBody(parsed)) throw new InvalidArgumentError('page_token', 'is not a token this API issued');
  if (parsed.list !== list) throw new InvalidArgumentError('page_token', 'belongs to a different list request');
  return parsed.after;
}

function isTokenBody(value: unknown): value is TokenBody {
  const body = value as TokenBody | null;
  return typeof body === 'object' && body !== null && typeof body.list === 'string' && typeof body.after === 'string';
}
