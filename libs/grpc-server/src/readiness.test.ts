import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Readiness } from './readiness';

describe('Readiness', () => {
  it("follows a dependency's own events, with its reason while down", () => {
    const readiness = new Readiness();
    const kafka = new EventEmitter<{ change: [up: boolean] }>();
    const changes: Array<[string, boolean]> = [];
    readiness.on('change', (dependency, up) => changes.push([dependency, up]));
    readiness.follow(
      'kafka',
      (listener) => kafka.on('change', listener),
      () => 'Kafka unreachable for 3 s',
    );
    assert.equal(readiness.allUp, true);
    kafka.emit('change', false);
    kafka.emit('change', false);
    assert.equal(readiness.allUp, false);
    assert.equal(readiness.reasonDown(['kafka']), 'Kafka unreachable for 3 s');
    assert.equal(readiness.reasonDown(['registry']), undefined);
    kafka.emit('change', true);
    assert.equal(readiness.allUp, true);
    assert.deepEqual(changes, [
      ['kafka', false],
      ['kafka', true],
    ]);
  });
});
