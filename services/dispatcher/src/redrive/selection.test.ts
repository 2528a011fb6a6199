import assert from 'node:assert/strict';
import { matchAll, parseFilter } from '@herald/filter';
import type { InboundMessage } from '../domain/inbound-message';
import { type Selection, judge } from './selection';

function deadLetter(
  subscription: string | undefined,
  publishTimeMillis: number,
  attributes: Record<string, string> = {},
): InboundMessage {
  return {
    partition: 0,
    offset: 0,
    size: 1,
    messageId: 'm',
    data: Buffer.from('x'),
    attributes,
    orderingKey: '',
    idempotencyKey: '',
    publishTimeMillis,
    ...(subscription === undefined
      ? {}
      : { deadLetter: { subscription, attempts: 5, messageId: 'o', publishTimeMillis: 0 } }),
  };
}

describe('judge', () => {
  const all: Selection = { subscription: 'orders-sub', filter: matchAll, startMillis: undefined, endMillis: undefined };

  it('takes the subscription’s dead letters and calls every other record foreign', () => {
    assert.equal(judge(all, deadLetter('orders-sub', 5)), 'take');
    assert.equal(judge(all, deadLetter('billing-sub', 5)), 'foreign');
    assert.equal(judge(all, deadLetter(undefined, 5)), 'foreign', 'a record published to the topic directly');
  });

  it('leaves dead letters outside the time range, start included and end excluded', () => {
    const range = { ...all, startMillis: 100, endMillis: 200 };
    assert.equal(judge(range, deadLetter('orders-sub', 99)), 'leave');
    assert.equal(judge(range, deadLetter('orders-sub', 100)), 'take');
    assert.equal(judge(range, deadLetter('orders-sub', 199)), 'take');
    assert.equal(judge(range, deadLetter('orders-sub', 200)), 'leave');
  });

  it('filters on the attributes as delivered, the dead-letter ones included', () => {
    const filtered = {
      ...all,
      filter: parseFilter('attributes.region = "eu" AND attributes.herald-dead-letter-attempts = "5"'),
    };
    const eu = deadLetter('orders-sub', 5, { region: 'eu', 'herald-dead-letter-attempts': '5' });
    const us = deadLetter('orders-sub', 5, { region: 'us', 'herald-dead-letter-attempts': '5' });
    assert.equal(judge(filtered, eu), 'take');
    assert.equal(judge(filtered, us), 'leave');
  });
});
