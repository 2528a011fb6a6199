export * from './resource-name';
export * from './push-endpoint';
