import { EventEmitter } from 'node:events';
import { type ReceivedMessage, StreamingPullRequest, StreamingPullResponse } from '@herald/api';
import type { PullCall } from '../subscriber/message-stream';

/** A StreamingPull call without a server: tests read what was written and push responses and errors. */
export class FakePullCall extends EventEmitter implements PullCall {
  readonly written: StreamingPullRequest[] = [];
  ended = false;
  cancelled = false;

  write(request: StreamingPullRequest, callback?: () => void): boolean {
    this.written.push(StreamingPullRequest.fromPartial(request));
    callback?.();
    return true;
  }

  end(): void {
    this.ended = true;
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** Delivers messages with these ack ids. */
  deliver(...ackIds: string[]): void {
    this.emit(
      'data',
      StreamingPullResponse.fromPartial({
        receivedMessages: ackIds.map((ackId): Partial<ReceivedMessage> => ({
          ackId,
          messageId: `id-${ackId}`,
          deliveryAttempt: 1,
        })),
      }),
    );
  }

  /** Breaks the stream with a gRPC status. */
  fail(code: number, details = 'broken'): void {
    this.emit('error', Object.assign(new Error(details), { code, details }));
    this.emit('end');
  }

  /** Every ack id written in acks, nacks or deadline changes, by kind. */
  settled() {
    return {
      acks: this.written.flatMap((r) => r.ackIds),
      nacks: this.written.flatMap((r) => r.nackIds),
      deadlines: this.written.flatMap((r) =>
        r.modifyDeadlineAckIds.map((ackId, i) => [ackId, r.modifyDeadlineSeconds[i]] as const),
      ),
    };
  }
}
