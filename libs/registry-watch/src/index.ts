export * from './registry-watcher';
