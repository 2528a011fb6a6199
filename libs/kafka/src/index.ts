export * from './kafka-client';
export * from './names';
export * from './headers';
export * from './kafka-errors';
export * from './topic-admin';
export * from './durable-producer';
export * from './key-partitioner';
