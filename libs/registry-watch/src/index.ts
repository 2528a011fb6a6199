export * from './registry-watcher';
export * from './watched-authorization';
