/** The limits a publish request must respect; each one configurable. */
export interface PublishLimits {
  /** Largest message: data, attributes and keys together. */
  maxMessageBytes: number;
  /** Most messages in one request. */
  maxBatchMessages: number;
  /** Largest request: all its messages together. */
  maxBatchBytes: number;
  maxAttributes: number;
  maxAttributeKeyBytes: number;
  maxAttributeValueBytes: number;
  maxOrderingKeyBytes: number;
  maxIdempotencyKeyBytes: number;
}

/** Defaults in line with the large managed services (10 MB messages). */
export const defaultPublishLimits: PublishLimits = {
  maxMessageBytes: 10 * 1024 * 1024,
  maxBatchMessages: 1000,
  maxBatchBytes: 10 * 1024 * 1024,
  maxAttributes: 100,
  maxAttributeKeyBytes: 256,
  maxAttributeValueBytes: 1024,
  maxOrderingKeyBytes: 1024,
  maxIdempotencyKeyBytes: 256,
};
