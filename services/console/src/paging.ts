import { RequestError } from './request-error';

/** What one list request asks for: a page after a token, of the items matching a search. */
export interface PageQuery {
  /** 1 to {@link maxPageSize}. */
  pageSize: number;
  /** Empty for the first page. */
  pageToken: string;
  /** Words that must all appear in a name (case-insensitive); empty matches everything. */
  search: string;
  /** A narrowing the caller chose besides the search (the topic of a subscription list). */
  scope: string;
}

/** One page: the items, the token of the next page (empty on the last), and how many match in all. */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
  totalMatching: number;
}

export const defaultPageSize = 50;
export const maxPageSize = 500;
const maxSearchLength = 200;

/** A list query from URL parameters: `pageSize`, `pageToken`, `search` (and `topic`, the scope). */
export function parsePageQuery(params: URLSearchParams, scopeParam?: string): PageQuery {
  const sizeText = params.get('pageSize') ?? '';
  let pageSize = defaultPageSize;
  if (sizeText !== '') {
    if (!/^\d+$/.test(sizeText) || Number(sizeText) < 1 || Number(sizeText) > maxPageSize) {
      throw new RequestError('pageSize', `must be a whole number from 1 to ${maxPageSize}`);
    }
    pageSize = Number(sizeText);
  }
  const search = (params.get('search') ?? '').trim();
  if (search.length > maxSearchLength) {
    throw new RequestError('search', `is ${search.length} characters; the limit is ${maxSearchLength}`);
  }
  return {
    pageSize,
    pageToken: params.get('pageToken') ?? '',
    search,
    scope: scopeParam === undefined ? '' : (params.get(scopeParam) ?? ''),
  };
}

/**
 * Page tokens carry the last name of the page and the query they belong to: a token is only valid
 * with the search and scope that made it, as with Herald's own list rpcs. Paging by name rather than
 * by index keeps pages stable while topics are created and deleted between requests.
 */
export function encodePageToken(afterName: string, query: PageQuery): string {
  return Buffer.from(JSON.stringify({ a: afterName, s: query.search, c: query.scope })).toString('base64url');
}

/** The name a page token resumes after; throws a {@link RequestError} for a foreign or damaged token. */
export function decodePageToken(query: PageQuery): string {
  if (query.pageToken === '') return '';
  let token: { a?: unknown; s?: unknown; c?: unknown };
  try {
    token = JSON.parse(Buffer.from(query.pageToken, 'base64url').toString('utf8')) as typeof token;
  } catch {
    throw new RequestError('pageToken', 'is not a token this console issued');
  }
  if (typeof token?.a !== 'string' || token.s !== query.search || token.c !== query.scope) {
    throw new RequestError('pageToken', 'belongs to another search; start again from the first page');
  }
  return token.a;
}

/** Whether `name` holds every word of `search`, ignoring case. */
export function matchesSearch(search: string, ...names: string[]): boolean {
  return matchesWords(searchWords(search), names.join('\n').toLowerCase());
}

/** The lower-case words of a search, split once per request rather than once per item. */
export function searchWords(search: string): string[] {
  return search === '' ? [] : search.toLowerCase().split(/\s+/);
}

/** Whether a lower-case `haystack` holds every one of `words`. */
export function matchesWords(words: string[], haystack: string): boolean {
  return words.every((word) => haystack.includes(word));
}

/**
 * A page of `sorted` (ascending by `nameOf`): the first `pageSize` items after the token's name
 * that `matches` accepts. Binary search finds where the page starts; the scan past it stops as soon
 * as the page is full, and the count of all matches is one pass over the names.
 */
export function pageOf<T>(
  sorted: readonly T[],
  nameOf: (item: T) => string,
  matches: (item: T) => boolean,
  query: PageQuery,
): Page<T> {
  const after = decodePageToken(query);
  let low = 0;
  let high = sorted.length;
  if (after !== '') {
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (nameOf(sorted[middle]!) <= after) low = middle + 1;
      else high = middle;
    }
  }
  const items: T[] = [];
  let index = after === '' ? 0 : low;
  let more = false;
  for (; index < sorted.length; index++) {
    const item = sorted[index]!;
    if (!matches(item)) continue;
    if (items.length === query.pageSize) {
      more = true;
      break;
    }
    items.push(item);
  }
  let totalMatching = 0;
  for (const item of sorted) if (matches(item)) totalMatching++;
  const last = items.at(-1);
  return {
    items,
    nextPageToken: more && last !== undefined ? encodePageToken(nameOf(last), query) : '',
    totalMatching,
  };
}
