export * from './env';
export * from './common-env';
export * from './kafka-security';
export * from './grpc-security';
export * from './reloaded-file';
