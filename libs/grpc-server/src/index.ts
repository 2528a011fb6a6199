export * from './error-middleware';
export * from './server';
export * from './lifecycle';
export * from './readiness';
export * from './metrics-interceptor';
export * from './auth';
export * from './server-credentials';
export * from './client-credentials';
