import assert from 'node:assert/strict';
import type { Logger } from '@herald/logging';
import sinon from 'sinon';
import { KafkaConnectivity } from './kafka-connectivity';

/** A logger that keeps each line's level and message. */
function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: unknown, message?: string) =>
    void lines.push(`${level} ${message ?? String(_fields)}`);
  const logger = { warn: at('warn'), info: at('info'), debug: at('debug'), error: at('error') } as unknown as Logger;
  return { logger, lines };
}

describe('KafkaConnectivity', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => clock.restore());

  /** A monitor whose probe answers as `up` says, checked every second. */
  function monitor() {
    const state = { up: true, probes: 0 };
    const { logger, lines } = recordingLogger();
    const connectivity = new KafkaConnectivity({
      logger,
      probe: async () => {
        state.probes++;
        if (!state.up) throw new Error('Connection refused');
      },
      intervalMillis: 1_000,
      stillLostLogMillis: 30_000,
    });
    const changes: boolean[] = [];
    connectivity.on('reachable', (reachable) => changes.push(reachable));
    connectivity.start();
    return { state, lines, changes, connectivity };
  }

  it('loses Kafka after two failed probes and gets it back on the first answer', async () => {
    const { state, changes, connectivity } = monitor();
    await clock.tickAsync(3_000);
    assert.equal(connectivity.reachable, true);
    state.up = false;
    await clock.tickAsync(1_000);
    assert.equal(connectivity.reachable, true, 'one failed probe is not an outage');
    await clock.tickAsync(1_000);
    assert.equal(connectivity.reachable, false);
    assert.match(connectivity.unreachableReason, /^Kafka unreachable for 1 s \(Connection refused\); retry later$/);
    await clock.tickAsync(5_000);
    assert.match(connectivity.unreachableReason, /^Kafka unreachable for 6 s /, 'counted from the first failed probe');
    state.up = true;
    await clock.tickAsync(1_000);
    assert.equal(connectivity.reachable, true);
    assert.deepEqual(changes, [false, true]);
  });

  it('logs one line per state change and one per 30 s of outage, not one per probe', async () => {
    const { state, lines } = monitor();
    state.up = false;
    await clock.tickAsync(95_000);
    state.up = true;
    await clock.tickAsync(5_000);
    assert.deepEqual(lines, [
      'warn Kafka unreachable',
      'warn Kafka still unreachable',
      'warn Kafka still unreachable',
      'warn Kafka still unreachable',
      'info Kafka reachable again',
    ]);
  });

  it('takes a client library\'s "all brokers down" as a reason to probe at once', async () => {
    const { state, connectivity } = monitor();
    state.up = false;
    connectivity.reportDown('all broker connections are down');
    await clock.tickAsync(0);
    assert.equal(connectivity.reachable, false, 'lost before the next scheduled probe');
  });

  it('ignores "all brokers down" when a probe still answers', async () => {
    const { connectivity } = monitor();
    connectivity.reportDown('all broker connections are down');
    await clock.tickAsync(0);
    assert.equal(connectivity.reachable, true);
  });
});
