import type { ProducerStats } from '@herald/kafka';
import { Counter, Gauge, Histogram, LabelBudget, type Registry } from '@herald/metrics';
import type { InflightBudget } from './domain/inflight-budget';
import type { PublishObserver } from './publish-service';

/** The topic label of a refused batch whose topic does not exist: callers' typos get no series of their own. */
const unknownTopic = '(unknown)';

/**
 * The publisher's Prometheus metrics: messages and bytes accepted per topic,
 * refusals by reason, Kafka's produce latency, batch sizes, bytes in flight
 * and resends. Topics past `maxTopicSeries` are counted under `other`.
 */
export class PublisherMetrics implements PublishObserver {
  private readonly topics: LabelBudget;
  private readonly messages: Counter<'topic'>;
  private readonly bytes: Counter<'topic'>;
  private readonly rejectedMessages: Counter<'topic' | 'reason'>;
  private readonly produceSeconds: Histogram;
  private readonly batchMessages: Histogram;

  constructor(
    registry: Registry,
    options: { maxTopicSeries: number; budget: InflightBudget; producerStats: ProducerStats },
  ) {
    this.topics = new LabelBudget(options.maxTopicSeries);
    const registers = [registry];
    this.messages = new Counter({
      name: 'herald_publisher_messages_total',
      help: 'Messages accepted (written to Kafka and acknowledged) per topic',
      labelNames: ['topic'],
      registers,
    });
    this.bytes = new Counter({
      name: 'herald_publisher_bytes_total',
      help: 'Bytes of messages accepted (data, attributes and keys) per topic',
      labelNames: ['topic'],
      registers,
    });
    this.rejectedMessages = new Counter({
      name: 'herald_publisher_rejected_messages_total',
      help: 'Messages refused, per topic and reason (the gRPC status, lower case)',
      labelNames: ['topic', 'reason'],
      registers,
    });
    this.produceSeconds = new Histogram({
      name: 'herald_publisher_produce_seconds',
      help: 'Time for Kafka to acknowledge a publish call’s records (acks=all), in seconds',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.batchMessages = new Histogram({
      name: 'herald_publisher_batch_messages',
      help: 'Messages per accepted publish call',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
      registers,
    });
    new Gauge({
      name: 'herald_publisher_bytes_in_flight',
      help: 'Bytes accepted from callers and not yet acknowledged by Kafka',
      registers,
      collect() {
        this.set(options.budget.usedBytes);
      },
    });
    new Counter({
      name: 'herald_publisher_retries_total',
      help: 'Times records were sent again under a new producer id after a Kafka failure',
      registers,
      collect() {
        this.reset();
        this.inc(options.producerStats.resends);
      },
    });
  }

  accepted(topic: string, messages: number, bytes: number, produceSeconds: number): void {
    const label = this.topics.labelOf(topic);
    this.messages.inc({ topic: label }, messages);
    this.bytes.inc({ topic: label }, bytes);
    this.produceSeconds.observe(produceSeconds);
    this.batchMessages.observe(messages);
  }

  rejected(topic: string, topicKnown: boolean, reason: string, messages: number): void {
    const label = topicKnown ? this.topics.labelOf(topic) : unknownTopic;
    this.rejectedMessages.inc({ topic: label, reason }, messages);
  }

  /**
   * A topic was deleted: its place among the named topics is free again, and its accepted series go
   * (its refusals stay: a few series, and the reason it was refused may be why someone looks).
   */
  topicDeleted(topic: string): void {
    if (!this.topics.release(topic)) return;
    this.messages.remove({ topic });
    this.bytes.remove({ topic });
  }
}
