import { Kafka, logLevel } from 'kafkajs';
import { PublishLoad } from '../load';
import type { History } from '../history';
import type { Scenario } from '../scenario';

/** Per run: the fan-out partitions the killed leader led, where the fan-out set's acks=1 writes can be lost. */
const fanoutExposure = new WeakMap<History, number[]>();

/**
 * The control run, which must fail: next to Herald's own publishers, a raw
 * kafkajs producer writes to the same topic with acks=1. Both followers of the
 * topic's one partition are frozen, so that acks=1 writes are acknowledged by
 * the leader alone; the leader is killed; the followers (still in the ISR)
 * come back and one of them takes over without those writes. The checker must
 * report them lost, and must report no loss for Herald's acks=all publishes.
 */
export const control: Scenario = {
  name: 'control',
  title: 'control: acks=1 writes with a killed leader must be reported lost',
  description:
    'One partition, replication factor 3. Beside the Herald publishers (acks=all), a plain kafkajs producer ' +
    'writes chaos messages with acks=1 straight into the same Kafka topic. Both followers are frozen (SIGSTOP) ' +
    "for 3 s, so the leader alone acknowledges the acks=1 writes while Herald's acks=all writes wait; then the " +
    'leader is killed with SIGKILL, the followers resume and one of them is elected (unclean election stays off: ' +
    'they never left the ISR), and the old leader is restarted 15 s later and truncates its log. The scenario ' +
    'passes when the checker reports acks=1 messages lost, and no Herald message lost. The fan-out topic (one ' +
    'partition led by each broker) gets acks=1 writes too: those on the partition the killed broker led must be ' +
    'reported lost in the fan-out set.',
  partitions: 1,
  needsCluster: true,
  drainTimeoutMillis: 30_000,
  async run(ctx) {
    const cluster = ctx.env.cluster!;
    const kafka = new Kafka({ clientId: 'herald-chaos-acks1', brokers: ctx.env.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false });
    await producer.connect();
    ctx.onCleanup(() => producer.disconnect());
    const acks1 = new PublishLoad({
      name: 'control-acks1',
      topic: ctx.topic,
      rate: 200,
      keys: 8,
      history: ctx.history,
      via: { kind: 'kafka-acks1', producer, kafkaTopic: ctx.kafkaTopic },
    });
    ctx.publishers.push(acks1);
    acks1.start();
    // The fan-out set gets acks=1 writes of its own, so that the checker must also see a loss there: its topic has
    // one partition led by each broker, and the writes that land on the killed leader's partition are lost.
    const fanout = ctx.fanout;
    const fanoutKafkaTopic = fanout && `${ctx.deployment.prefix}${fanout.topic}`;
    if (fanout && fanoutKafkaTopic) {
      const fanoutAcks1 = new PublishLoad({
        name: 'control-fanout-acks1',
        topic: fanout.topic,
        rate: 10,
        keys: 32,
        history: ctx.history,
        via: { kind: 'kafka-acks1', producer, kafkaTopic: fanoutKafkaTopic },
      });
      ctx.publishers.push(fanoutAcks1);
      fanoutAcks1.start();
    }
    await ctx.sleep(3_000);
    const { leader, isr } = await ctx.deployment.partitionLayout(ctx.kafkaTopic, 0);
    const followers = isr.filter((id) => id !== leader);
    ctx.log(`partition 0: leader ${leader}, in-sync followers ${followers.join(', ')}`);
    if (fanout && fanoutKafkaTopic) {
      const led: number[] = [];
      for (let p = 0; p < fanout.partitions; p++) {
        if ((await ctx.deployment.partitionLayout(fanoutKafkaTopic, p)).leader === leader) led.push(p);
      }
      fanoutExposure.set(ctx.history, led);
      ctx.note(
        led.length > 0
          ? `Fan-out topic: partition(s) ${led.join(', ')} led by broker ${leader}, the one killed: the fan-out set's acks=1 writes there must be reported lost.`
          : `Fan-out topic: no partition led by broker ${leader}: the fan-out set's acks=1 writes could not be lost this time (not judged).`,
      );
    }
    ctx.onCleanup(async () => {
      for (const id of followers) cluster.resumeBroker(id);
      if (!cluster.isRunning(leader)) await cluster.startBroker(leader, 120_000);
    });
    await ctx.fault(`SIGSTOP followers ${followers.join(', ')}`, 'inject', async () => {
      for (const id of followers) await cluster.pauseBroker(id);
    });
    await ctx.sleep(3_000);
    await ctx.fault(`kill -9 leader ${leader}`, 'inject', () => cluster.killBroker(leader));
    await ctx.fault(`SIGCONT followers ${followers.join(', ')}`, 'repair', () => {
      for (const id of followers) cluster.resumeBroker(id);
    });
    await ctx.sleep(15_000);
    await ctx.fault(`restart broker ${leader}`, 'repair', () => cluster.startBroker(leader, 120_000));
  },
  judge(verdict, ctx) {
    const failures: string[] = [];
    const exposed = fanoutExposure.get(ctx.history) ?? [];
    if (verdict.fanout && exposed.length > 0 && (verdict.fanout.lostByVia['kafka-acks1'] ?? 0) === 0) {
      failures.push(
        `the checker reported no acks=1 message lost in the fan-out set, though the killed broker led its partition(s) ${exposed.join(', ')}`,
      );
    }
    const acks1 = verdict.lostByVia['kafka-acks1'] ?? 0;
    const herald = (verdict.lostByVia.sdk ?? 0) + (verdict.lostByVia.stream ?? 0);
    if (acks1 === 0) failures.push('the checker reported no acks=1 message lost: it cannot be trusted to see a loss');
    if (herald > 0) failures.push(`${herald} Herald (acks=all) message(s) lost in the control run`);
    return failures;
  },
};
