// Herald from plain JavaScript (no build step): create a topic and a subscription, publish three
// messages, receive and ack them.
//
//   node quickstart.mjs
//
// Addresses come from HERALD_REGISTRY, HERALD_PUBLISHER and HERALD_DISPATCHER (comma-separated
// host:port), by default those of `make up`.
import { Admin, HeraldClientError, Publisher, Subscriber } from '@herald/client';

const list = (variable, fallback) => (process.env[variable] ?? fallback).split(',').filter(Boolean);

const suffix = Date.now().toString(36);
const topic = `quickstart-${suffix}`;
const subscription = `quickstart-${suffix}-sub`;
const admin = new Admin({ endpoints: list('HERALD_REGISTRY', '127.0.0.1:50052') });
try {
  await admin.createTopic({ name: topic });
  // 'earliest': the subscription also sees what was published before it existed.
  await admin.createSubscription({ name: subscription, topic, startAt: 'earliest' });

  const publisher = new Publisher({ endpoints: list('HERALD_PUBLISHER', '127.0.0.1:50051') });
  const ids = await publisher.publishAll(topic, [{ data: 'one' }, { data: 'two' }, { data: 'three' }]);
  await publisher.close();
  console.log(`published ${ids.length} messages to ${topic}`);

  const subscriber = new Subscriber({ endpoints: list('HERALD_DISPATCHER', '127.0.0.1:50053'), subscription });
  const received = [];
  for await (const message of subscriber) {
    received.push(message.data.toString());
    message.ack();
    if (received.length === ids.length) break; // leaving the loop closes the subscriber
  }
  console.log(`received ${received.sort().join(', ')}`);

  await admin.deleteSubscription(subscription);
  await admin.deleteTopic(topic);
} catch (error) {
  // Every failure is a HeraldClientError: a gRPC status name and what went wrong, on one line.
  console.error(error instanceof HeraldClientError ? error.message : error);
  process.exitCode = 1;
} finally {
  admin.close();
}
