import assert from 'node:assert/strict';
import { RequestError } from './request-error';
import {
  parseStartAt,
  parseSubscriptionChanges,
  parseSubscriptionSpec,
  parseTailFrom,
  parseTestMessage,
  parseTopicSpec,
} from './validation';

const refused = (field: string) => (error: unknown) => error instanceof RequestError && error.field === field;

describe('console request validation', () => {
  it('takes a topic with optional partitions and retention in hours', () => {
    assert.deepEqual(parseTopicSpec({ name: ' orders ', partitions: '6', retentionHours: 24 }), {
      name: 'orders',
      partitions: 6,
      retentionMillis: 86_400_000,
    });
    assert.deepEqual(parseTopicSpec({ name: 'orders', partitions: '' }), { name: 'orders' });
    assert.throws(() => parseTopicSpec({ partitions: 3 }), refused('name'));
    assert.throws(() => parseTopicSpec({ name: 'orders', partitions: 2.5 }), refused('partitions'));
    assert.throws(() => parseTopicSpec({ name: 'orders', partitions: 0 }), refused('partitions'));
    assert.throws(() => parseTopicSpec([]), refused('body'));
  });

  it('takes a subscription with its policies, and refuses half a policy', () => {
    const spec = parseSubscriptionSpec({
      name: 'audit',
      topic: 'orders',
      ackDeadlineSeconds: 30,
      filter: 'attributes.region = "eu"',
      enableMessageOrdering: true,
      minimumBackoffMillis: 100,
      maximumBackoffMillis: 5000,
      deadLetterTopic: 'orders-dead',
      maxDeliveryAttempts: 5,
      startAt: 'earliest',
    });
    assert.deepEqual(spec, {
      name: 'audit',
      topic: 'orders',
      ackDeadlineSeconds: 30,
      filter: 'attributes.region = "eu"',
      enableMessageOrdering: true,
      retryPolicy: { minimumBackoffMillis: 100, maximumBackoffMillis: 5000 },
      deadLetterPolicy: { deadLetterTopic: 'orders-dead', maxDeliveryAttempts: 5 },
      startAt: 'earliest',
    });
    assert.throws(() => parseSubscriptionSpec({ name: 'a' }), refused('topic'));
    assert.throws(
      () => parseSubscriptionSpec({ name: 'a', topic: 't', minimumBackoffMillis: 10 }),
      refused('maximumBackoffMillis'),
    );
    assert.throws(
      () => parseSubscriptionSpec({ name: 'a', topic: 't', maxDeliveryAttempts: 5 }),
      refused('deadLetterTopic'),
    );
    assert.throws(() => parseSubscriptionSpec({ name: 'a', topic: 't', enableMessageOrdering: 'yes' }));
  });

  it('passes names and ranges the services own on to them unchanged', () => {
    // The registry, not the console, says what a valid name or deadline is (and names the limit).
    assert.equal(parseTopicSpec({ name: 'herald-reserved' }).name, 'herald-reserved');
    assert.equal(parseSubscriptionSpec({ name: 's', topic: 't', ackDeadlineSeconds: 5 }).ackDeadlineSeconds, 5);
  });

  it('changes only the fields sent, removes a policy sent as null, and refuses an empty change', () => {
    assert.deepEqual(parseSubscriptionChanges({ ackDeadlineSeconds: 60 }), { ackDeadlineSeconds: 60 });
    assert.deepEqual(parseSubscriptionChanges({ deadLetterPolicy: null }), { deadLetterPolicy: null });
    assert.deepEqual(parseSubscriptionChanges({ retryPolicy: { minimumBackoffMillis: 1, maximumBackoffMillis: 2 } }), {
      retryPolicy: { minimumBackoffMillis: 1, maximumBackoffMillis: 2 },
    });
    assert.throws(() => parseSubscriptionChanges({ filter: 'x' }), refused('body'));
    assert.throws(() => parseSubscriptionChanges({ retryPolicy: 'fast' }), refused('retryPolicy'));
  });

  it('reads positions and times, and refuses anything else', () => {
    assert.equal(parseStartAt('earliest', 'to'), 'earliest');
    assert.deepEqual(parseStartAt('2026-01-31T12:00:00Z', 'to'), new Date('2026-01-31T12:00:00Z'));
    assert.throws(() => parseStartAt('yesterday', 'to'), refused('to'));
    assert.throws(() => parseStartAt('2026-13-45T99:00:00Z', 'to'), refused('to'));
    const before = Date.now();
    const now = parseTailFrom(null);
    assert.ok(now instanceof Date && now.getTime() >= before);
    assert.equal(parseTailFrom('earliest'), 'earliest');
  });

  it('takes a test message with text data and string attributes', () => {
    assert.deepEqual(parseTestMessage({ data: 'hello', attributes: { region: 'eu' }, orderingKey: 'k' }), {
      data: 'hello',
      attributes: { region: 'eu' },
      orderingKey: 'k',
    });
    assert.deepEqual(parseTestMessage({}), { data: '', attributes: {} });
    assert.throws(() => parseTestMessage({ attributes: { n: 1 } }), refused('attributes.n'));
    assert.throws(() => parseTestMessage({ data: 42 }), refused('data'));
  });
});
