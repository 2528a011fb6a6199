import type { ServerDuplexStream } from '@grpc/grpc-js';
import { type StreamingPullRequest, StreamingPullResponse } from '@herald/api';
import { type HeraldError, InvalidArgumentError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import type { AttachedStream, DispatcherService } from '../dispatcher-service';
import type { StreamEndpoint } from '../subscription-runtime';
import type { FlowLimits } from '../domain/flow-control';
import { writeDeliveries } from './delivery-encoding';
import { answerToProto, exactlyOnceProperties } from './lease-answers';
import { type Relay, type StreamForwarder, forwardedByHeader } from './stream-forwarder';

/** Bounds on what one stream may ask for, so that no client can make the server hold unbounded memory. */
export const StreamLimits = {
  defaultMaxOutstandingMessages: 1000,
  maxOutstandingMessages: 100_000,
  defaultMaxOutstandingBytes: 100 * 1024 * 1024,
  maxOutstandingBytes: 1024 * 1024 * 1024,
  /**
   * Largest request gRPC reads. A stream may hold `maxOutstandingMessages` deliveries, and one request
   * may settle them all: 100,000 ack ids (about 20 bytes each) and as many deadline changes come to
   * about 5 MB, past gRPC's 4 MiB default, which ended the stream with RESOURCE_EXHAUSTED.
   */
  maxRequestBytes: 16 * 1024 * 1024,
} as const;

/**
 * StreamingPull: the first request attaches the stream to its subscription;
 * later ones carry acks, nacks and deadline changes. Messages go out in
 * batches as flow control and the stream's write buffer allow. A stream for a
 * subscription another dispatcher serves is relayed there whole, or, if its
 * client accepts redirects, told that dispatcher's address and ended.
 */
export function streamingPull(
  call: ServerDuplexStream<StreamingPullRequest, StreamingPullResponse>,
  dispatcher: DispatcherService,
  forwarder: StreamForwarder,
  logger: Logger,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let attached: AttachedStream | undefined;
    let relay: Relay | undefined;
    let attaching = false;
    let finished = false;
    const early: StreamingPullRequest[] = [];
    const forwarded = call.metadata.get(forwardedByHeader).length > 0;

    const finish = (error?: HeraldError) => {
      if (finished) return;
      finished = true;
      attached?.detach();
      relay?.cancel();
      if (error) reject(error);
      else resolve();
    };
    const isFinished = () => finished;
    const handle = (request: StreamingPullRequest) => {
      if (relay) return relay.write(request);
      try {
        apply(attached!, request);
      } catch (error) {
        finish(error as HeraldError);
      }
    };

    call.on('data', (request: StreamingPullRequest) => {
      if (attached || relay) return handle(request);
      if (attaching) return void early.push(request);
      attaching = true;
      let limits: FlowLimits;
      let ackDeadlineMillis: number | undefined;
      try {
        ({ limits, ackDeadlineMillis } = firstRequest(request));
      } catch (error) {
        return finish(error as HeraldError);
      }
      dispatcher
        .attach(
          request.subscription,
          endpointOf(call, request.subscription, logger, finish, isFinished),
          limits,
          ackDeadlineMillis,
          forwarded,
        )
        .then(
          (attachment) => {
            if (attachment.kind === 'local') {
              attached = attachment.stream;
              if (finished) return attached.detach();
            } else {
              if (finished) return;
              if (request.acceptRedirect && !forwarded) {
                // Nothing is leased yet: the client opens the stream again at the serving instance.
                call.write(StreamingPullResponse.fromPartial({ servedBy: attachment.address }));
                return finish();
              }
              relay = forwarder.relay(call, attachment.address, finish);
            }
            handle(request);
            for (const next of early.splice(0)) handle(next);
          },
          (error: HeraldError) => finish(error),
        );
    });
    call.on('drain', () => attached?.drained()); // a relay resumes its upstream on its own
    // A client that half-closes (grpcurl with -d, say) still receives until it cancels; it just
    // sends no more acks, so what it gets is delivered again after the ack deadline.
    call.on('end', () => {
      if (!attached && !relay && !attaching)
        finish(new InvalidArgumentError('subscription', 'the stream closed before its first request'));
    });
    call.on('cancelled', () => finish());
    call.on('close', () => finish());
    call.on('error', (error) => {
      logger.debug({ err: error }, 'streaming pull stream error');
      finish();
    });
  });
}

/**
 * The stream as the runtime sees it. Made outside the first request's
 * handler, so that what the runtime keeps for as long as the stream lives
 * does not hold that request too.
 */
function endpointOf(
  call: ServerDuplexStream<StreamingPullRequest, StreamingPullResponse>,
  subscription: string,
  logger: Logger,
  finish: (error?: HeraldError) => void,
  finished: () => boolean,
): StreamEndpoint {
  return {
    sink: {
      send: (batch) => writeDeliveries(call, batch, subscription, logger),
    },
    end: finish,
    // Small and rare beside deliveries: written past a full buffer rather than held back.
    answer: (answer) => {
      if (!finished()) call.write(answerToProto(answer));
    },
    exactlyOnce: (ordering) => call.write(exactlyOnceProperties(ordering)),
  };
}

function firstRequest(request: StreamingPullRequest): { limits: FlowLimits; ackDeadlineMillis: number | undefined } {
  if (!request.subscription) throw new InvalidArgumentError('subscription', 'is required on the first request');
  const deadline = request.streamAckDeadlineSeconds;
  if (deadline !== 0 && (deadline < 10 || deadline > 600)) {
    throw new InvalidArgumentError('stream_ack_deadline_seconds', `must be 0 or between 10 and 600, not ${deadline}`);
  }
  const messages = Number(request.maxOutstandingMessages);
  const bytes = Number(request.maxOutstandingBytes);
  if (messages < 0 || messages > StreamLimits.maxOutstandingMessages) {
    throw new InvalidArgumentError(
      'max_outstanding_messages',
      `must be between 0 and ${StreamLimits.maxOutstandingMessages}, not ${messages}`,
    );
  }
  if (bytes < 0 || bytes > StreamLimits.maxOutstandingBytes) {
    throw new InvalidArgumentError(
      'max_outstanding_bytes',
      `must be between 0 and ${StreamLimits.maxOutstandingBytes}, not ${bytes}`,
    );
  }
  return {
    limits: {
      maxOutstandingMessages: messages || StreamLimits.defaultMaxOutstandingMessages,
      maxOutstandingBytes: bytes || StreamLimits.defaultMaxOutstandingBytes,
    },
    ackDeadlineMillis: deadline === 0 ? undefined : deadline * 1000,
  };
}

function apply(stream: AttachedStream, request: StreamingPullRequest): void {
  if (request.modifyDeadlineAckIds.length !== request.modifyDeadlineSeconds.length) {
    throw new InvalidArgumentError(
      'modify_deadline_seconds',
      `has ${request.modifyDeadlineSeconds.length} entries for ${request.modifyDeadlineAckIds.length} modify_deadline_ack_ids`,
    );
  }
  if (request.ackIds.length > 0) stream.ack(request.ackIds);
  if (request.nackIds.length > 0) stream.nack(request.nackIds);
  if (request.modifyDeadlineAckIds.length > 0) {
    stream.modifyDeadlines(request.modifyDeadlineAckIds, request.modifyDeadlineSeconds);
  }
}
