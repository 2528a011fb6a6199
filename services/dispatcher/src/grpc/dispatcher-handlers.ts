import type { DispatcherServiceService } from '@herald/api';
import type { AsyncService } from '@herald/grpc-server';
import type { Logger } from '@herald/logging';
import type { DispatcherService } from '../dispatcher-service';
import type { TailDeps } from '../tail-reader';
import { streamingPull } from './streaming-pull';
import { tail } from './tail';

/** The DispatcherService rpcs. */
export function dispatcherHandlers(
  dispatcher: DispatcherService,
  tailDeps: TailDeps,
  logger: Logger,
): AsyncService<typeof DispatcherServiceService> {
  return {
    streamingPull: (call) => streamingPull(call, dispatcher, logger),
    tail: (call) => tail(call, tailDeps),
  };
}
