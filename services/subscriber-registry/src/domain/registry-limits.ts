/** Bounds and defaults the registry enforces. */
export const RegistryLimits = {
  partitionsMax: 1000,
  retentionMinMillis: 60_000,
  retentionMaxMillis: 3650 * 24 * 3600_000,
  ackDeadlineMinSeconds: 10,
  ackDeadlineMaxSeconds: 600,
  ackDeadlineDefaultSeconds: 10,
  backoffMaxMillis: 600_000,
  minimumBackoffDefaultMillis: 1_000,
  maximumBackoffDefaultMillis: 60_000,
  maxDeliveryAttemptsMin: 5,
  maxDeliveryAttemptsMax: 100,
  maxDeliveryAttemptsDefault: 5,
  filterMaxLength: 256,
  pageSizeDefault: 100,
  pageSizeMax: 1000,
} as const;
