/**
 * Herald's TypeScript client: {@link Publisher}, {@link Subscriber} and
 * {@link Admin}, each connecting to every instance of its service and failing
 * over between them.
 *
 * @packageDocumentation
 */
export { Publisher, type PublisherOptions, type PublishMessage, type BatchingOptions } from './publisher';
export { Subscriber, type SubscriberOptions, type FlowControlOptions } from './subscriber';
export { ReceivedMessage } from './received-message';
export type { SettleResult, SettleFailure } from './subscriber/confirmations';
export { type MessageTraceContext, TraceAttribute } from './tracing';
export {
  Admin,
  type AdminOptions,
  type TopicSpec,
  type SubscriptionSpec,
  type SubscriptionChanges,
  type PushSpec,
  pushConfigProto,
  type StartAt,
  positionOrTime,
  type RegistryEvent,
} from './admin';
export { HeraldClientError } from './client-error';
export { type ConnectionOptions, type TlsOptions, channelCredentials, heraldChannelOptions } from './endpoints';
export type { RetryOptions } from './unary';
export type { BackoffOptions } from './backoff';
export type { Topic, Subscription, WatchResponse, IamPolicy, IamBinding } from '@herald/api';
