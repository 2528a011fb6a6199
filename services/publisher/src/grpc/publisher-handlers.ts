import type { Message, PublisherServiceService, PublishStreamRequest, PublishStreamResponse } from '@herald/api';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { toStatus } from '@herald/errors';
import type { AsyncService } from '@herald/grpc-server';
import type { Logger } from '@herald/logging';
import { traceHeadersFromMetadata } from '@herald/tracing';
import type { OutgoingMessage } from '../domain/outgoing-message';
import type { PublishService } from '../publish-service';
import { type PublishFn, publishTraced, takeTraceAttributes } from './publish-tracing';

/** Requests one PublishStream may have in flight before the server stops reading it. */
const maxInflightPerStream = 256;

/** The PublisherService rpcs: proto in, domain call, proto out. */
export function publisherHandlers(
  publisher: PublishService,
  logger: Logger,
): AsyncService<typeof PublisherServiceService> {
  const publish: PublishFn = (topic, messages) => publisher.publish(topic, messages);
  return {
    publish: async (request, call) => ({
      messageIds: await publishTraced(
        publish,
        request.topic,
        request.messages.map(fromProto),
        { headers: traceHeadersFromMetadata(call.metadata), method: 'Publish' },
        logger,
      ),
    }),
    publishStream: (call) => pipeline(call, publish, logger),
  };
}

function fromProto(message: Message): OutgoingMessage {
  return takeTraceAttributes({
    data: message.data,
    attributes: message.attributes,
    orderingKey: message.orderingKey,
    idempotencyKey: message.idempotencyKey,
    traceParent: undefined,
    traceState: undefined,
  });
}

/**
 * Each request is published as soon as it arrives and answered as soon as it
 * is durable, so many batches are in flight on one stream. A failed batch gets
 * its error in its own response.
 */
function pipeline(
  call: ServerDuplexStream<PublishStreamRequest, PublishStreamResponse>,
  publish: PublishFn,
  logger: Logger,
): Promise<void> {
  // The stream's metadata holds one trace context for all its requests.
  const traced = { headers: traceHeadersFromMetadata(call.metadata), method: 'PublishStream' } as const;
  return new Promise((resolve) => {
    let inflight = 0;
    let writeBlocked = false;
    let inputEnded = false;
    // Reading pauses while too many requests are in flight, or while the client does not read its answers.
    const updateReading = () => {
      if (writeBlocked || inflight >= maxInflightPerStream) call.pause();
      else call.resume();
    };
    call.on('drain', () => {
      writeBlocked = false;
      updateReading();
    });
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      resolve();
    };
    const maybeEnd = () => {
      if (inputEnded && inflight === 0 && !call.cancelled) {
        call.end();
        finish();
      }
    };
    call.on('data', (request: PublishStreamRequest) => {
      inflight++;
      updateReading();
      publishTraced(publish, request.topic, request.messages.map(fromProto), traced, logger)
        .then(
          (messageIds): PublishStreamResponse => ({ requestId: request.requestId, messageIds, error: undefined }),
          (error: unknown): PublishStreamResponse => {
            const status = toStatus(error);
            if (status.unexpected) logger.error({ err: error }, 'unexpected error in PublishStream');
            return {
              requestId: request.requestId,
              messageIds: [],
              error: { code: status.code, message: status.details },
            };
          },
        )
        .then((response) => {
          inflight--;
          if (!call.cancelled && !call.writableEnded && !call.write(response)) writeBlocked = true;
          updateReading();
          maybeEnd();
        });
    });
    call.on('end', () => {
      inputEnded = true;
      maybeEnd();
    });
    call.on('cancelled', finish);
    call.on('error', finish);
  });
}
