export * from './health-probe';
export * from './service-process';
export * from './herald-stack';
export * from './preflight';
