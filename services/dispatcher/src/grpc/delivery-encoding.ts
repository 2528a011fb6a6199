import type { ServerDuplexStream, ServiceDefinition } from '@grpc/grpc-js';
import { BinaryWriter, ReceivedMessage, type StreamingPullRequest, type StreamingPullResponse } from '@herald/api';
import type { Logger } from '@herald/logging';
import { serviceTracer } from '@herald/tracing';
import type { Delivery } from '../domain/delivery-engine';
import type { InboundMessage } from '../domain/inbound-message';
import { deliveriesToProto } from './delivery-tracing';
import { messageToProto } from './proto-mapping';

/**
 * A StreamingPull response already in wire form. A fanned-out message goes to
 * every subscription of its topic, and only its ack id and delivery attempt
 * differ between them: its other fields are encoded once and the copies reuse
 * the bytes, instead of each delivery encoding a kilobyte again.
 */
export type EncodedPullResponse = Buffer & { readonly encodedPullResponse: true };

// Field numbers of ReceivedMessage and StreamingPullResponse (proto/herald/v1): tag = field << 3 | wire type.
const receivedMessagesTag = (1 << 3) | 2;
const ackIdTag = (1 << 3) | 2;
const deliveryAttemptTag = 7 << 3;

/** The fields every delivery of a message shares, encoded once per message (protobuf fields may come in any order). */
const sharedFields = new WeakMap<InboundMessage, Uint8Array>();

function sharedFieldsOf(message: InboundMessage): Uint8Array {
  let bytes = sharedFields.get(message);
  if (!bytes) {
    bytes = ReceivedMessage.encode(messageToProto(message)).finish();
    sharedFields.set(message, bytes);
  }
  return bytes;
}

/**
 * The response carrying `batch`. With tracing on, each delivery carries its own
 * span's context in its attributes, so each is encoded whole.
 */
export function encodeDeliveries(batch: Delivery[], subscription: string, logger: Logger): EncodedPullResponse {
  const writer = new BinaryWriter();
  if (serviceTracer()) {
    for (const proto of deliveriesToProto(batch, subscription, logger)) {
      ReceivedMessage.encode(proto, writer.uint32(receivedMessagesTag).fork()).join();
    }
  } else {
    for (const delivery of batch) {
      writer.uint32(receivedMessagesTag).fork();
      writer.uint32(ackIdTag).string(delivery.ackId);
      writer.raw(sharedFieldsOf(delivery.message));
      if (delivery.deliveryAttempt !== 0) writer.uint32(deliveryAttemptTag).int32(delivery.deliveryAttempt);
      writer.join();
    }
  }
  const bytes = writer.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as EncodedPullResponse;
}

/** Writes `batch` on a stream whose service came through {@link withEncodedPullResponses}; false when its buffer is full. */
export function writeDeliveries(
  call: ServerDuplexStream<StreamingPullRequest, StreamingPullResponse>,
  batch: Delivery[],
  subscription: string,
  logger: Logger,
): boolean {
  // The typed stream knows only objects; its serializer (below) passes the bytes through.
  return call.write(encodeDeliveries(batch, subscription, logger) as unknown as StreamingPullResponse);
}

/**
 * The dispatcher's service definition with a StreamingPull serializer that
 * sends {@link EncodedPullResponse}s as they are; responses as objects (a
 * relayed stream's) are encoded as usual.
 */
export function withEncodedPullResponses<S extends ServiceDefinition>(service: S): S {
  const streamingPull = service.streamingPull;
  if (!streamingPull) throw new Error('the service has no streamingPull method');
  const serialize = streamingPull.responseSerialize as (value: StreamingPullResponse) => Buffer;
  return {
    ...service,
    streamingPull: {
      ...streamingPull,
      responseSerialize: (value: StreamingPullResponse | EncodedPullResponse) =>
        Buffer.isBuffer(value) ? value : serialize(value),
    },
  };
}
