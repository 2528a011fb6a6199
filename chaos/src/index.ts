/**
 * Herald's fault-injection suite: load clients that record what they sent and
 * received, faults, and a checker that judges from those records and from
 * Kafka itself.
 *
 * @packageDocumentation
 */
export * from './history';
export * from './checker';
export * from './kafka-audit';
export * from './load';
export * from './stream-publisher';
export * from './deployment';
export * from './scenario';
export * from './report';
export * from './process-sampler';
export * from './scenarios';
export * from './fanout';
export * from './security';
