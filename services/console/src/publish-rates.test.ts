import assert from 'node:assert/strict';
import { PublishRates, parseMessageCounters } from './publish-rates';

const exposition = (counts: Record<string, number>) =>
  [
    '# HELP herald_publisher_messages_total Messages written to Kafka',
    '# TYPE herald_publisher_messages_total counter',
    ...Object.entries(counts).map(([topic, n]) => `herald_publisher_messages_total{topic="${topic}"} ${n}`),
    'herald_publisher_bytes_total{topic="orders"} 99999',
  ].join('\n');

describe('console publish rates', () => {
  it("reads each topic's message counter from Prometheus's text format", () => {
    const counters = parseMessageCounters(
      `${exposition({ orders: 10, 'a.b-c': 3 })}\nherald_publisher_messages_total{instance="p1",topic="orders"} 5\n`,
    );
    assert.deepEqual(
      [...counters],
      [
        ['orders', 15],
        ['a.b-c', 3],
      ],
    );
  });

  it('sums the growth over every publisher per second, and survives a publisher restarting', async () => {
    const pages = new Map<string, string>();
    const rates = new PublishRates(['p1', 'p2'], 5_000, async (url) => {
      const page = pages.get(url);
      if (page === undefined) throw new Error('connection refused');
      return page;
    });
    pages.set('p1', exposition({ orders: 100 }));
    pages.set('p2', exposition({ orders: 50, refunds: 1 }));
    await rates.read(0);
    assert.equal(rates.rateOf('orders'), null, 'one reading gives no rate yet');
    pages.set('p1', exposition({ orders: 150 }));
    pages.set('p2', exposition({ orders: 100, refunds: 1 }));
    await rates.read(10_000);
    assert.equal(rates.rateOf('orders'), 10);
    assert.equal(rates.rateOf('refunds'), 0);
    // p2 restarted (its counter starts again) and p1 is unreachable for a reading.
    pages.set('p2', exposition({ orders: 20 }));
    pages.delete('p1');
    await rates.read(20_000);
    assert.equal(rates.rateOf('orders'), 2);
    assert.match(rates.lastError ?? '', /p1: connection refused/);
  });

  it('says nothing without publishers to read', () => {
    assert.equal(new PublishRates([]).rateOf('orders'), null);
  });
});
