import type { ServerWritableStream } from '@grpc/grpc-js';
import { Position, type TailRequest, type TailResponse } from '@herald/api';
import { InvalidArgumentError } from '@herald/errors';
import { parseFilter } from '@herald/filter';
import { validateResourceName } from '@herald/resource-names';
import { type TailStart, tailStartAtTime } from '../domain/tail-start';
import { type TailDeps, tailTopic } from '../tail-reader';
import { messageToProto } from './proto-mapping';

/** Tail: read a topic from a position, no acks, nothing kept once the caller leaves. */
export async function tail(call: ServerWritableStream<TailRequest, TailResponse>, deps: TailDeps): Promise<void> {
  const request = call.request;
  validateResourceName('topic', request.topic);
  const filter = parseFilter(request.filter);
  let start: TailStart = { kind: 'latest' };
  if (request.start?.$case === 'time') start = tailStartAtTime('time', request.start.value.getTime());
  else if (request.start?.$case === 'position') {
    if (request.start.value === Position.POSITION_EARLIEST) start = { kind: 'earliest' };
    else if (
      request.start.value !== Position.POSITION_LATEST &&
      request.start.value !== Position.POSITION_UNSPECIFIED
    ) {
      throw new InvalidArgumentError('position', `unknown position ${request.start.value}`);
    }
  }
  const closed = new Promise<void>((resolve) => {
    call.on('cancelled', resolve);
    call.on('close', resolve);
    call.on('error', () => resolve());
  });
  await tailTopic(deps, request.topic, start, filter, {
    write: (batch) => call.write({ messages: batch.map((message) => messageToProto(message)) }),
    drained: () => Promise.race([new Promise<void>((resolve) => call.once('drain', () => resolve())), closed]),
    closed,
  });
}
