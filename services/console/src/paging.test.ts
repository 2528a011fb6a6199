import assert from 'node:assert/strict';
import { type PageQuery, decodePageToken, encodePageToken, matchesSearch, pageOf, parsePageQuery } from './paging';
import { RequestError } from './request-error';

const names = Array.from({ length: 1_000 }, (_, i) => `topic-${String(i).padStart(4, '0')}`);
const query = (overrides: Partial<PageQuery> = {}): PageQuery => ({
  pageSize: 100,
  pageToken: '',
  search: '',
  scope: '',
  ...overrides,
});
const page = (q: PageQuery, items = names) =>
  pageOf(
    items,
    (name) => name,
    (name) => matchesSearch(q.search, name),
    q,
  );

describe('console paging', () => {
  it('walks 1,000 names a page at a time, each once, in order, and the last page has no token', () => {
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const p = page(query({ pageSize: 64, pageToken: token }));
      assert.equal(p.totalMatching, 1_000);
      seen.push(...p.items);
      token = p.nextPageToken;
      pages++;
    } while (token);
    assert.deepEqual(seen, names);
    assert.equal(pages, Math.ceil(1_000 / 64));
  });

  it('pages over the matches of a search only, and counts them all', () => {
    const q = query({ pageSize: 5, search: '09' });
    const first = page(q);
    const expected = names.filter((name) => name.includes('09'));
    assert.equal(first.totalMatching, expected.length);
    assert.deepEqual(first.items, expected.slice(0, 5));
    const second = page({ ...q, pageToken: first.nextPageToken });
    assert.deepEqual(second.items, expected.slice(5, 10));
  });

  it('resumes after the last name shown even when names before it were deleted meanwhile', () => {
    const first = page(query({ pageSize: 10 }));
    const fewer = names.filter((name) => name !== 'topic-0003' && name !== 'topic-0009');
    const second = page(query({ pageSize: 10, pageToken: first.nextPageToken }), fewer);
    assert.equal(second.items[0], 'topic-0010');
  });

  it('refuses a token made for another search, and one it never issued', () => {
    const token = encodePageToken('topic-0100', query({ search: 'a' }));
    assert.throws(
      () => decodePageToken(query({ pageToken: token, search: 'b' })),
      (e: unknown) => e instanceof RequestError && e.field === 'pageToken',
    );
    assert.equal(decodePageToken(query({ pageToken: token, search: 'a' })), 'topic-0100');
    assert.throws(() => decodePageToken(query({ pageToken: 'bm90IGpzb24' })), RequestError);
  });

  it('searches every word, ignoring case, in any of the names given', () => {
    assert.ok(matchesSearch('ORD eu', 'orders-eu'));
    assert.ok(matchesSearch('audit orders', 'audit-1', 'orders'));
    assert.ok(!matchesSearch('orders us', 'orders-eu'));
    assert.ok(matchesSearch('', 'anything'));
  });

  it('reads pageSize, pageToken, search and the scope from the URL, refusing sizes out of range', () => {
    const q = parsePageQuery(new URLSearchParams('pageSize=20&search=%20ord%20&topic=orders&pageToken=x'), 'topic');
    assert.deepEqual(q, { pageSize: 20, pageToken: 'x', search: 'ord', scope: 'orders' });
    assert.equal(parsePageQuery(new URLSearchParams('')).pageSize, 50);
    for (const bad of ['0', '501', 'ten', '-1', '1.5']) {
      assert.throws(() => parsePageQuery(new URLSearchParams(`pageSize=${bad}`)), /pageSize/);
    }
    assert.throws(() => parsePageQuery(new URLSearchParams(`search=${'x'.repeat(201)}`)), /search/);
  });
});
