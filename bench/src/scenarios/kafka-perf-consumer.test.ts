import assert from 'node:assert/strict';
import { parseConsumerPerfSummary } from './kafka-perf-consumer';

describe('parseConsumerPerfSummary', () => {
  it("reads ConsumerPerformance's totals by the names in its header", () => {
    const output = [
      '[2026-11-25 13:00:00,000] WARN something the JVM said',
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
      '2026-11-25 13:00:01:000, 2026-11-25 13:00:04:000, 146.4844, 48.8281, 150000, 50000.0000, 1500, 1500, 97.6563, 100000.0000',
      '',
    ].join('\n');
    assert.deepEqual(parseConsumerPerfSummary(output), {
      records: 150_000,
      fetchMillis: 1500,
      fetchRecordsPerSecond: 100_000,
      rebalanceMillis: 1500,
    });
  });

  it('gives nothing for output without the totals', () => {
    assert.equal(parseConsumerPerfSummary('Exception in thread "main"'), undefined);
  });
});
