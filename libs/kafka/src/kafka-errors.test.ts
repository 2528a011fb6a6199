import assert from 'node:assert/strict';
import { InternalError, UnavailableError } from '@herald/errors';
import { toHeraldError } from './kafka-errors';

describe('toHeraldError', () => {
  it('makes a connection failure UNAVAILABLE, however it was wrapped', () => {
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
      name: 'KafkaJSError',
    });
    const cases: unknown[] = [
      refused,
      new Error('could not send', { cause: refused }),
      Object.assign(new Error('Local: Broker transport failure'), { code: -1 }),
      { message: 'all broker connections are down' },
    ];
    for (const error of cases) {
      const mapped = toHeraldError(error, 'producing');
      assert.ok(mapped instanceof UnavailableError, `${String(error)} -> ${mapped.name}`);
      assert.match(mapped.message, /^Kafka unavailable while producing/);
    }
  });

  it('makes a leader epoch a broker has not applied yet UNAVAILABLE (a topic created a moment ago)', () => {
    const librdkafka = Object.assign(new Error('Broker: Leader epoch is newer than broker epoch'), { code: 75 });
    const kafkajs = { type: 'UNKNOWN_LEADER_EPOCH', message: 'Leader epoch is newer than broker epoch', code: 75 };
    for (const error of [librdkafka, kafkajs]) {
      assert.ok(toHeraldError(error, 'reading offsets') instanceof UnavailableError);
    }
  });

  it('keeps an unknown failure INTERNAL', () => {
    assert.ok(toHeraldError(new Error('Invalid record batch'), 'producing') instanceof InternalError);
  });
});
