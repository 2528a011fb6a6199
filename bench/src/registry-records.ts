/**
 * Registry log records, in the format the subscriber-registry writes
 * (`services/subscriber-registry/src/domain/registry-events.ts`, built by
 * `topicCreatedRecord` and `subscriptionRecord` in `commands.ts`): key
 * `topic/<name>` or `subscription/<name>`, value the whole entity as JSON.
 * Copied rather than imported, since a service's internals are no library; the
 * replay scenario checks the registry's own count of what it replayed, so a
 * drift of this copy fails the benchmark instead of measuring something else.
 */

/** Version of the record format this copy follows. */
export const registryRecordVersion = 1;

/** A record ready for a kafkajs producer. */
export interface RegistryLogMessage {
  key: string;
  value: Buffer;
}

/** A topic as `topicCreatedRecord` writes it. */
export function topicCreatedMessage(
  name: string,
  partitions: number,
  replicationFactor: number,
  nowMillis: number,
): RegistryLogMessage {
  const event = {
    v: registryRecordVersion,
    type: 'topic',
    change: 'created',
    topic: { name, partitions, retentionMillis: 7 * 24 * 3600_000, replicationFactor, createTimeMillis: nowMillis },
  };
  return { key: `topic/${name}`, value: Buffer.from(JSON.stringify(event)) };
}

/** A new subscription with default settings, as `subscriptionCreatedRecord` writes it. */
export function subscriptionCreatedMessage(
  name: string,
  topic: string,
  partitions: number,
  nowMillis: number,
): RegistryLogMessage {
  const event = {
    v: registryRecordVersion,
    type: 'subscription',
    change: 'created',
    subscription: {
      name,
      topic,
      ackDeadlineSeconds: 10,
      retryPolicy: { minimumBackoffMillis: 1_000, maximumBackoffMillis: 60_000 },
      deadLetterPolicy: null,
      enableMessageOrdering: false,
      filter: '',
      startOffsets: Array.from({ length: partitions }, (_, partition) => ({ partition, offset: '0' })),
      lastSeek: null,
      detached: false,
      createTimeMillis: nowMillis,
      // The registry fills in the record's own offset.
      createRevision: 'self',
    },
  };
  return { key: `subscription/${name}`, value: Buffer.from(JSON.stringify(event)) };
}
