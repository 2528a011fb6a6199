export { Counter, Gauge, Histogram, type Registry } from 'prom-client';
export * from './label-budget';
export * from './metrics-server';
export * from './registry';
export * from './service-metrics';
