export * from './local-kafka-cluster';
export * from './jars';
export * from './paths';
export * from './process-control';
