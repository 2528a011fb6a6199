import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Readiness } from './readiness';

describe('Readiness', () => {
  it("follows a dependency's own events, with its reason while down", () => {
    const readiness = new Readiness();
    const kafka = Object.assign(new EventEmitter<{ reachable: [up: boolean] }>(), {
      reachable: true,
      unreachableReason: 'Kafka unreachable for 3 s',
    });
    const changes: Array<[string, boolean]> = [];
    readiness.on('change', (dependency, up) => changes.push([dependency, up]));
    readiness.follow('kafka', kafka);
    assert.equal(readiness.allUp, true);
    kafka.emit('reachable', false);
    kafka.emit('reachable', false);
    assert.equal(readiness.allUp, false);
    assert.equal(readiness.reasonDown(['kafka']), 'Kafka unreachable for 3 s');
    assert.equal(readiness.reasonDown(['registry']), undefined);
    kafka.emit('reachable', true);
    assert.equal(readiness.allUp, true);
    assert.deepEqual(changes, [
      ['kafka', false],
      ['kafka', true],
    ]);
  });

  it('starts from the state the dependency is in when followed', () => {
    const readiness = new Readiness();
    const registry = Object.assign(new EventEmitter<{ reachable: [up: boolean] }>(), {
      reachable: false,
      unreachableReason: 'no registry',
    });
    readiness.follow('registry', registry);
    assert.equal(readiness.allUp, false, 'down before any event');
    registry.emit('reachable', true);
    assert.equal(readiness.allUp, true);
  });
});
