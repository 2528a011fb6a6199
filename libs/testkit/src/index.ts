export * from './test-kafka';
export * from './names';
export * from './wait-for';
export * from './reflection-probe';
export * from './rpc';
export * from './kafka-reader';
export * from './test-ca';
export * from './secured-deployment';
