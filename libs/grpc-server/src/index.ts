export * from './error-middleware';
export * from './server';
export * from './lifecycle';
export * from './readiness';
export * from './metrics-interceptor';
