import type { DispatcherServiceService } from '@herald/api';
import type { AsyncService } from '@herald/grpc-server';
import type { Logger } from '@herald/logging';
import type { DispatcherService } from '../dispatcher-service';
import type { StreamSlots } from '../domain/stream-slots';
import type { TailDeps } from '../tail-reader';
import { type DeadLetterDeps, peekDeadLetters, redriveDeadLetters } from './dead-letters';
import type { StreamForwarder } from './stream-forwarder';
import { streamingPull } from './streaming-pull';
import { getSubscriptionStats } from './subscription-stats';
import { tail } from './tail';

/**
 * The DispatcherService rpcs. Every stream holds one of `slots` while it is
 * open; a stream past the limit is refused with RESOURCE_EXHAUSTED before it
 * touches Kafka.
 */
export function dispatcherHandlers(
  dispatcher: DispatcherService,
  tailDeps: TailDeps,
  forwarder: StreamForwarder,
  slots: StreamSlots,
  logger: Logger,
  /** This dispatcher's advertised address, named in the figures it serves. */
  address: string,
  deadLetters: DeadLetterDeps,
): AsyncService<typeof DispatcherServiceService> {
  return {
    streamingPull: (call) => holdingSlot(slots, () => streamingPull(call, dispatcher, forwarder, logger)),
    tail: (call) => holdingSlot(slots, () => tail(call, tailDeps)),
    getSubscriptionStats: (request, call) => getSubscriptionStats(request, call, dispatcher, forwarder, address),
    peekDeadLetters: (_request, call) => peekDeadLetters(call, deadLetters),
    redriveDeadLetters: (call) => redriveDeadLetters(call, deadLetters),
  };
}

async function holdingSlot(slots: StreamSlots, run: () => Promise<void>): Promise<void> {
  const release = slots.acquire();
  try {
    await run();
  } finally {
    release();
  }
}
