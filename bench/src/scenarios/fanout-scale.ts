import { Admin, Publisher } from '@herald/client';
import type { ServiceProcess } from '@herald/devstack';
import {
  attach,
  createSubscriptions,
  deleteSubscriptions,
  describeFailures,
  failureKind,
  rssOf,
  sleep,
  startDispatchers,
  stopAll,
  threadsOf,
} from '../fanout-harness';
import { FanoutDeliveries, waitFor } from '../fanout-deliveries';
import { brokerPorts, connectionsTo } from '../proc-sockets';
import type { FanoutScaleDispatcher, FanoutScaleRow, Scenario } from '../scenario';
import { StampedPayloads } from '../stamped-payloads';
import { StreamFleet } from '../stream-fleet';
import { v8HeapOf } from '../v8-heap';

const messageBytes = 1024;

/** Time for the dispatchers to take in the registry's new subscriptions before their memory counts as "before". */
const registrySettleMillis = 3_000;

/**
 * Whether many subscriptions fit: S subscriptions of one topic over a few
 * dispatchers, one stream each, and one message that must reach all of them.
 * Every phase has a time limit and reports what it got within it, so the
 * scenario says how far a dispatcher got instead of hanging.
 */
export const fanoutScale: Scenario = {
  name: 'fanout-scale',
  usesHeraldStack: true,
  profiled: false,
  skippedBy: (plan) =>
    plan.mode === 'smoke'
      ? '`fanout` covers its parts in a smoke run; three dispatchers and registry writes would add half a minute'
      : undefined,
  description:
    'S subscriptions of one fresh topic created through the registry (16 requests in flight), then one ' +
    'StreamingPull stream each from the benchmark process, round robin over dispatchers of their own (fresh ' +
    'processes, stream limit raised above S), each asking to be redirected (`accept_redirect`) and opened again ' +
    'at the dispatcher serving its subscription; a probe message is published and waited for on every subscription ' +
    '(attach), then one message whose arrival on every attached subscription is timed (deliver). Memory per ' +
    "subscription is each dispatcher's RSS growth from before the streams, divided by the subscriptions attached " +
    'on it (served there): as the attach phase ended, and per idle subscription once the dispatchers had been left idle a few ' +
    "seconds more (once idle, a dispatcher gives back what a burst grew of its heap, then its C allocator's free " +
    'pages); beside it, the growth ' +
    'of its V8 heap (total reserved, and used: live objects plus garbage not yet collected) from its /metrics, ' +
    'at the same moments. Each phase is bounded in time (and attach by a ' +
    'memory and thread guard); ' +
    'what did not happen in time is counted, not waited for.',
  async run(context) {
    const plan = context.plan.fanoutScale;
    const { env } = context;
    const topic = `fanout-scale-${context.runId}`;
    const admin = new Admin({ endpoints: env.herald.registries.map((r) => r.address) });
    try {
      await admin.createTopic({ name: topic, partitions: plan.partitions });
    } finally {
      admin.close();
    }
    env.deleteAtStop(topic);
    const names = Array.from({ length: plan.subscriptions }, (_, i) => `${topic}-s${i}`);
    const row: FanoutScaleRow = {
      subscriptions: plan.subscriptions,
      created: 0,
      createSeconds: 0,
      openStreams: 0,
      attached: 0,
      attachSeconds: 0,
      delivered: 0,
      deliverTarget: 0,
      deliverSeconds: 0,
      dispatchers: [],
      notes: [],
    };
    let created: string[] = [];
    // Created, or maybe created (a failed create may have happened all the same): what to delete at the end.
    let attempted: string[] = [];
    let dispatchers: ServiceProcess[] = [];
    let fleet: StreamFleet | undefined;
    const publisher = new Publisher({ endpoints: [env.publisher.address] });
    try {
      dispatchers = await startDispatchers(
        context,
        'fanout-scale-dispatcher',
        plan.dispatchers,
        // Every stream may end up on one dispatcher: one that does not serve a subscription relays its stream
        // to the one that does, and both count it.
        plan.subscriptions + 100,
      );
      const creation = await createSubscriptions(
        context,
        topic,
        names,
        plan.createConcurrency,
        plan.createTimeoutSeconds * 1000,
      );
      const done = new Set(creation.done);
      created = names.filter((name) => done.has(name));
      attempted = [...creation.done, ...creation.failed];
      row.created = created.length;
      row.createSeconds = creation.seconds;
      context.log(
        `  ${created.length} of ${plan.subscriptions} subscriptions created in ${creation.seconds.toFixed(1)} s`,
      );
      if (created.length < plan.subscriptions) {
        row.notes.push(
          `${plan.subscriptions - created.length} subscriptions not created within ${plan.createTimeoutSeconds} s` +
            (creation.failures.size > 0 ? `: ${describeFailures(creation.failures)}` : ''),
        );
      }
      if (created.length === 0) return { kind: 'fanout-scale', rows: [row] };

      await sleep(registrySettleMillis);
      const rssBefore = dispatchers.map((d) => rssOf(d.pid));
      const heapBefore = await Promise.all(dispatchers.map((d) => v8HeapOf(d.metricsUrl)));
      const deliveries = new FanoutDeliveries(created.length);
      const payloads = new StampedPayloads(messageBytes);
      fleet = StreamFleet.create({
        subscriptions: created,
        endpoints: dispatchers.map((d) => d.address),
        streamsPerChannel: plan.streamsPerChannel,
        // Each stream ends up on the dispatcher serving its subscription, as the SDK's connectToServingDispatcher
        // does: what a subscription costs, without the relay a load balancer in front would add.
        acceptRedirect: true,
        onMessage: (subscription, message) => deliveries.record(subscription, message.data, process.hrtime.bigint()),
      });
      const streams = fleet;
      const pids = dispatchers.map((d) => d.pid);

      const attached = await attach({
        fleet: streams,
        subscriptions: created.length,
        deliveries,
        probe: 0,
        publishProbe: () => publisher.publish(topic, { data: payloads.make(0, process.hrtime.bigint()) }),
        pids,
        alive: () => dispatchers.some((d) => d.running),
        timeoutMillis: plan.attachTimeoutSeconds * 1000,
      });
      const guard = attached.guard;
      row.attachSeconds = attached.seconds;
      row.attached = attached.attached;
      row.openStreams = streams.open;
      context.log(
        `  ${row.attached} of ${created.length} attached in ${row.attachSeconds.toFixed(1)} s ` +
          `(${row.openStreams} of ${streams.opened} streams open over ${streams.channels} channels)` +
          (guard ? `; stopped: ${guard}` : ''),
      );
      row.notes.push(
        `${streams.redirected} of ${streams.opened} streams were redirected to the dispatcher serving their ` +
          `subscription (accept_redirect); ${streams.channels} gRPC channels`,
      );
      if (attached.publishFailure)
        row.notes.push(`the attach probe could not be published: ${attached.publishFailure}`);
      if (guard) {
        row.notes.push(
          `attach stopped after ${streams.opened} streams were opened, the dispatchers frozen (SIGSTOP), ` +
            `measured without their Kafka connections, and killed: ${guard}`,
        );
      } else if (!attached.complete && !attached.publishFailure) {
        row.notes.push(
          `${created.length - row.attached} subscriptions had not received the probe after ` +
            `${plan.attachTimeoutSeconds} s`,
        );
      }

      if (guard) streams.close();
      const ports = brokerPorts(env.kafkaBrokers);
      // Not from frozen processes: they would not answer.
      const heapAfter = guard ? [] : await Promise.all(dispatchers.map((d) => v8HeapOf(d.metricsUrl)));
      row.dispatchers = dispatchers.map((d, i): FanoutScaleDispatcher => {
        let attached = 0;
        let assigned = 0;
        for (let s = 0; s < streams.opened; s++) {
          if (streams.addressOf(s) !== d.address) continue;
          assigned++;
          if (deliveries.hasProbe(0, s)) attached++;
        }
        let kafkaConnections: number | undefined;
        try {
          // Not after the guard tripped: thousands of sockets to match, on a machine that has no time to spare.
          if (!guard) kafkaConnections = connectionsTo(d.pid, ports);
        } catch {
          // gone
        }
        return {
          role: `dispatcher-${i + 1}`,
          pid: d.pid,
          streams: assigned,
          attached,
          rssBeforeBytes: rssBefore[i]!,
          rssAfterBytes: rssOf(d.pid),
          heapBefore: heapBefore[i],
          heapAfter: heapAfter[i],
          kafkaConnections,
          threads: threadsOf(d.pid),
          running: d.running,
        };
      });
      for (const [i, d] of dispatchers.entries()) {
        if (!d.running) row.notes.push(`dispatcher-${i + 1} exited: ${d.lastLoggedError() ?? 'no error logged'}`);
      }
      // Frozen by the guard, measured above; their threads and memory go only with them.
      if (guard) for (const d of dispatchers) d.kill();
      if (streams.endings.size > 0) row.notes.push(`streams ended: ${streams.describeEndings().join('; ')}`);
      if (guard || attached.publishFailure) return { kind: 'fanout-scale', rows: [row] };

      context.log(`  idle for ${plan.idleSeconds} s`);
      await sleep(plan.idleSeconds * 1000);
      const heapIdle = await Promise.all(dispatchers.map((d) => v8HeapOf(d.metricsUrl)));
      for (const [i, d] of dispatchers.entries()) {
        const measured = row.dispatchers[i]!;
        measured.rssIdleBytes = d.running ? rssOf(d.pid) : undefined;
        measured.heapIdle = heapIdle[i];
      }

      // Deliver: one message, to every attached subscription.
      row.deliverTarget = row.attached;
      deliveries.watchProbe(1);
      const deliverStarted = Date.now();
      const sent = await publishOnce(publisher, topic, payloads.make(1, process.hrtime.bigint()));
      if (sent !== true) row.notes.push(`the message could not be published: ${sent}`);
      const deliveredAll =
        sent === true &&
        (await waitFor(() => deliveries.receivedProbe(1) >= row.attached, plan.deliverTimeoutSeconds * 1000));
      row.deliverSeconds = (Date.now() - deliverStarted) / 1000;
      row.delivered = deliveries.receivedProbe(1);
      context.log(`  the message reached ${row.delivered} of ${row.attached} in ${row.deliverSeconds.toFixed(1)} s`);
      if (!deliveredAll && sent === true) {
        row.notes.push(
          `${row.attached - row.delivered} attached subscriptions had not received the message after ` +
            `${plan.deliverTimeoutSeconds} s`,
        );
      }
      if (deliveries.duplicates > 0) row.notes.push(`${deliveries.duplicates} deliveries were duplicates`);
      return { kind: 'fanout-scale', rows: [row] };
    } finally {
      fleet?.close();
      await publisher.close().catch(() => undefined);
      await stopAll(dispatchers);
      await deleteSubscriptions(context, attempted, plan.createConcurrency, 120_000);
    }
  },
};

/** Publishes one message; true once Herald has it, else why not (the scenario reports it and goes on). */
async function publishOnce(publisher: Publisher, topic: string, data: Buffer): Promise<true | string> {
  try {
    await publisher.publish(topic, { data });
    return true;
  } catch (error) {
    return failureKind(error);
  }
}
