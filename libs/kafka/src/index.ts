export * from './kafka-client';
export * from './names';
export * from './headers';
