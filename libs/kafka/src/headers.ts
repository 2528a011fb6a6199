/**
 * Reserved record headers. Attributes travel as headers of their own name;
 * names starting with `herald-` are Herald's and refused as attribute keys.
 */
export const ReservedHeader = {
  formatVersion: 'herald-format',
  messageId: 'herald-message-id',
  idempotencyKey: 'herald-idempotency-key',
  orderingKey: 'herald-ordering-key',
  publisher: 'herald-publisher',
  traceParent: 'herald-traceparent',
  deadLetterSubscription: 'herald-dead-letter-subscription',
  deadLetterAttempts: 'herald-dead-letter-attempts',
  deadLetterMessageId: 'herald-dead-letter-message-id',
  deadLetterPublishTime: 'herald-dead-letter-publish-time',
} as const;

/** The prefix no attribute key may start with. */
export const reservedHeaderPrefix = 'herald-';
