/**
 * How Herald names its things in Kafka. A Herald topic `T` is the Kafka topic
 * `<prefix>T`; the registry's log is `<prefix>_registry`; dispatchers share
 * the subscriptions in group `<prefix>dispatchers` over `<prefix>_cursors`
 * and say who serves what in `<prefix>_dispatchers`.
 */
export class KafkaNames {
  constructor(readonly prefix: string) {}

  /** The Kafka topic of a Herald topic. */
  topic(heraldTopic: string): string {
    return `${this.prefix}${heraldTopic}`;
  }

  /** The Herald topic of a Kafka topic, or undefined when it is not one of ours. */
  heraldTopic(kafkaTopic: string): string | undefined {
    if (!kafkaTopic.startsWith(this.prefix)) return undefined;
    const name = kafkaTopic.slice(this.prefix.length);
    return name.startsWith('_') ? undefined : name;
  }

  /** The consumer group a subscription used before dispatchers shared one read per partition: read once, to upgrade. */
  subscriptionGroup(subscription: string): string {
    return `${this.prefix}sub.${subscription}`;
  }

  /** Subscriptions' positions, compacted, keyed by subscription: each partition is a slot of subscriptions. */
  cursors(): string {
    return `${this.prefix}_cursors`;
  }

  /** The group whose members share the slots of {@link KafkaNames.cursors}. */
  dispatcherGroup(): string {
    return `${this.prefix}dispatchers`;
  }

  /** Which dispatcher serves each slot, compacted, keyed by slot. */
  dispatcherDirectory(): string {
    return `${this.prefix}_dispatchers`;
  }

  /** The registry's compacted event log. */
  registryLog(): string {
    return `${this.prefix}_registry`;
  }
}
