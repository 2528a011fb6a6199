import { CloudEventsMode, type Subscription } from '@herald/api';
import type { Logger } from '@herald/logging';
import type { DeliveryEngine } from '../domain/delivery-engine';
import type { EndpointGuard } from './endpoint-guard';
import { GrpcPush } from './grpc-push';
import { HttpPush } from './http-push';
import { PushSender } from './push-sender';
import type { PushTokens } from './push-token';
import type { PushTransport } from './push-transport';

/** The push subscription's concurrency ceiling when its configuration says 0 (as the registry's default). */
const defaultMaxOutstanding = 100;

/** Makes the push senders of the subscriptions this dispatcher serves. */
export class PushSenders {
  constructor(
    private readonly guard: EndpointGuard,
    readonly tokens: PushTokens,
    private readonly logger: Logger,
  ) {}

  /** A sender for a subscription with a push configuration; not started. */
  create(
    subscription: Subscription,
    engine: DeliveryEngine,
    streamId: number,
    ackDeadlineMillis: () => number,
    settled: () => void,
  ): PushSender | undefined {
    const config = subscription.pushConfig;
    if (!config?.endpoint) return undefined;
    const maxOutstanding = config.maxOutstanding || defaultMaxOutstanding;
    const { guard, tokens } = this;
    const name = subscription.name;
    const endpoint = config.endpoint;
    const transport: PushTransport =
      endpoint.$case === 'http'
        ? new HttpPush({
            subscription: name,
            url: endpoint.value.endpoint,
            mode: endpoint.value.mode === CloudEventsMode.CLOUD_EVENTS_MODE_STRUCTURED ? 'structured' : 'binary',
            audience: endpoint.value.audience,
            maxSockets: maxOutstanding,
            guard,
            tokens,
          })
        : new GrpcPush({ subscription: name, target: endpoint.value.target, guard, tokens });
    return new PushSender({
      subscription: name,
      engine,
      streamId,
      transport,
      maxOutstanding,
      ackDeadlineMillis,
      settled,
      logger: this.logger,
    });
  }
}
