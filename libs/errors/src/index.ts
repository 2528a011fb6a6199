export * from './herald-error';
export * from './to-status';
