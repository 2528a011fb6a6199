import {
  Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
  ServerInterceptingCall,
  status,
} from '@grpc/grpc-js';
import { principalOf } from './auth';

/** Limits per principal; 0 means no limit. */
export interface QuotaSettings {
  publishMessagesPerSecond: number;
  publishBytesPerSecond: number;
  /** Streams open at once (StreamingPull, PublishStream, Tail, Watch, RedriveDeadLetters). */
  streams: number;
}

/** The metadata key of a RESOURCE_EXHAUSTED answer saying when to try again, in milliseconds. */
export const retryAfterKey = 'retry-after-ms';

/** A token bucket refilled at `rate` per second, holding at most one second's worth. */
class Bucket {
  private tokens: number;
  private at = Date.now();

  constructor(private readonly rate: number) {
    this.tokens = rate;
  }

  /** How long until `cost` could be taken, in ms: 0 when it can be now. */
  wait(cost: number): number {
    const now = Date.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    // A request larger than a second's worth passes once the bucket is full, or it could never pass.
    const needed = Math.min(cost, this.rate);
    return this.tokens >= needed ? 0 : Math.ceil(((needed - this.tokens) / this.rate) * 1000);
  }

  take(cost: number): void {
    this.tokens -= cost;
  }
}

const publishPaths = new Set(['/herald.v1.PublisherService/Publish', '/herald.v1.PublisherService/PublishStream']);

interface PublishLike {
  messages?: Array<{
    data?: Uint8Array;
    attributes?: Record<string, string>;
    orderingKey?: string;
    idempotencyKey?: string;
  }>;
}

function publishCost(request: PublishLike): { messages: number; bytes: number } {
  let bytes = 0;
  for (const message of request.messages ?? []) {
    bytes += message.data?.length ?? 0;
    bytes += (message.orderingKey?.length ?? 0) + (message.idempotencyKey?.length ?? 0);
    for (const [key, value] of Object.entries(message.attributes ?? {})) bytes += key.length + value.length;
  }
  return { messages: request.messages?.length ?? 0, bytes };
}

/**
 * Quotas per principal: messages and bytes published per second, and streams
 * open at once. Over a quota a call (or one request of a stream) ends with
 * RESOURCE_EXHAUSTED, saying in its message and in `retry-after-ms` when to
 * try again; nothing is taken from the quota for it, and each principal has
 * buckets of its own, so one that floods never slows another. Needs
 * authentication: without a principal there is nobody to count against.
 */
export function quotaInterceptor(settings: QuotaSettings): ServerInterceptor {
  const messages = new Map<string, Bucket>();
  const bytes = new Map<string, Bucket>();
  const streams = new Map<string, number>();
  const bucket = (buckets: Map<string, Bucket>, id: string, rate: number) => {
    let found = buckets.get(id);
    if (!found) buckets.set(id, (found = new Bucket(rate)));
    return found;
  };
  const exhausted = (call: ServerInterceptingCallInterface, details: string, retryAfterMillis: number) => {
    const metadata = new Metadata();
    metadata.set(retryAfterKey, String(retryAfterMillis));
    call.sendStatus({ code: status.RESOURCE_EXHAUSTED, details, metadata });
  };

  return (method: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => {
    const isStream = method.requestStream || method.responseStream;
    const isPublish = publishPaths.has(method.path);
    if (!isPublish && !(isStream && settings.streams > 0)) return new ServerInterceptingCall(call);
    let principal: string | undefined;
    let counted = false;
    const release = () => {
      if (!counted || principal === undefined) return;
      counted = false;
      const open = (streams.get(principal) ?? 1) - 1;
      if (open <= 0) streams.delete(principal);
      else streams.set(principal, open);
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            principal = principalOf({ metadata })?.id;
            if (principal !== undefined && isStream && settings.streams > 0) {
              const open = streams.get(principal) ?? 0;
              if (open >= settings.streams) {
                exhausted(call, `${principal} has ${open} streams open, its quota; close one first`, 1_000);
                return;
              }
              streams.set(principal, open + 1);
              counted = true;
            }
            nextMetadata(metadata);
          },
          onReceiveMessage: (message, nextMessage) => {
            if (!isPublish || principal === undefined) return nextMessage(message);
            const cost = publishCost(message as PublishLike);
            const limits: Array<[Bucket, number]> = [];
            if (settings.publishMessagesPerSecond > 0) {
              limits.push([bucket(messages, principal, settings.publishMessagesPerSecond), cost.messages]);
            }
            if (settings.publishBytesPerSecond > 0) {
              limits.push([bucket(bytes, principal, settings.publishBytesPerSecond), cost.bytes]);
            }
            const wait = Math.max(0, ...limits.map(([limit, amount]) => limit.wait(amount)));
            if (wait === 0) {
              for (const [limit, amount] of limits) limit.take(amount);
              return nextMessage(message);
            }
            exhausted(call, `${principal} is over its publish quota; retry after ${wait} ms`, wait);
          },
          onCancel: release,
        }),
      sendStatus: (callStatus, nextStatus) => {
        release();
        nextStatus(callStatus);
      },
    });
  };
}
