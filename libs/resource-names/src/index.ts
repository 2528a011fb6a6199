export * from './resource-name';
