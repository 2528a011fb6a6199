export * from './test-kafka';
export * from './names';
export * from './wait-for';
export * from './reflection-probe';
