/**
 * How Herald names its things in Kafka. A Herald topic `T` is the Kafka topic
 * `<prefix>T`; a subscription `S` consumes in group `<prefix>sub.S`; the
 * registry's log is `<prefix>_registry`.
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

  /** The consumer group of a subscription. */
  subscriptionGroup(subscription: string): string {
    return `${this.prefix}sub.${subscription}`;
  }

  /** The registry's compacted event log. */
  registryLog(): string {
    return `${this.prefix}_registry`;
  }
}
