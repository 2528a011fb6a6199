import assert from 'node:assert/strict';
import { DispatcherServiceService, StreamingPullResponse } from '@herald/api';
import { silentLogger } from '@herald/logging';
import type { Delivery } from '../domain/delivery-engine';
import type { InboundMessage } from '../domain/inbound-message';
import { encodeDeliveries, withEncodedPullResponses } from './delivery-encoding';
import { deliveryToProto } from './proto-mapping';

function message(offset: number, extra: Partial<InboundMessage> = {}): InboundMessage {
  return {
    partition: 2,
    offset,
    messageId: `2-${offset}`,
    data: Buffer.from(`payload ${offset} `.repeat(40)),
    attributes: { colour: 'blue', ünïcode: 'välue' },
    orderingKey: offset % 2 === 0 ? 'key-a' : '',
    idempotencyKey: `idem-${offset}`,
    publishTimeMillis: 1_764_000_000_123 + offset,
    size: 700,
    ...extra,
  };
}

describe('encodeDeliveries', () => {
  const logger = silentLogger();

  it('decodes to what encoding each delivery whole gives, for every ack id and attempt', () => {
    const shared = message(7, { traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const batch: Delivery[] = [
      { ackId: 'a-1', message: shared, deliveryAttempt: 1 },
      { ackId: 'b-1', message: shared, deliveryAttempt: 3 },
      { ackId: 'c-1', message: message(8, { attributes: {}, data: Buffer.alloc(0) }), deliveryAttempt: 0 },
      { ackId: 'd-1', message: shared, deliveryAttempt: 300 },
      // Lengths of three varint bytes, and an ack id that is not ASCII.
      { ackId: 'é-2', message: message(9, { data: Buffer.alloc(40_000, 7) }), deliveryAttempt: 2 },
    ];
    // Twice: the second time the shared fields come from the cache.
    for (let round = 0; round < 2; round++) {
      const decoded = StreamingPullResponse.decode(encodeDeliveries(batch, 'projects/p/subscriptions/s', logger));
      const expected = StreamingPullResponse.decode(
        StreamingPullResponse.encode(
          StreamingPullResponse.fromPartial({ receivedMessages: batch.map(deliveryToProto) }),
        ).finish(),
      );
      assert.deepEqual(decoded, expected);
      assert.deepEqual(
        decoded.receivedMessages.map((m) => [m.ackId, m.deliveryAttempt]),
        [
          ['a-1', 1],
          ['b-1', 3],
          ['c-1', 0],
          ['d-1', 300],
          ['é-2', 2],
        ],
      );
    }
  });

  it('encodes an empty batch as an empty response', () => {
    assert.deepEqual(StreamingPullResponse.decode(encodeDeliveries([], 's', logger)).receivedMessages, []);
  });
});

describe('withEncodedPullResponses', () => {
  const service = withEncodedPullResponses(DispatcherServiceService);

  it('passes encoded responses through and encodes objects as before', () => {
    const batch: Delivery[] = [{ ackId: 'x', message: message(1), deliveryAttempt: 1 }];
    const encoded = encodeDeliveries(batch, 's', silentLogger());
    assert.equal(service.streamingPull.responseSerialize(encoded as never), encoded);
    const object = StreamingPullResponse.fromPartial({ receivedMessages: batch.map(deliveryToProto) });
    assert.deepEqual(
      service.streamingPull.responseSerialize(object),
      DispatcherServiceService.streamingPull.responseSerialize(object),
    );
  });

  it('leaves the other methods alone', () => {
    assert.equal(service.tail, DispatcherServiceService.tail);
  });
});
