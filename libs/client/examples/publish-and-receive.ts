import { Admin, Publisher, Subscriber } from '@herald/client';

/** The README's first example: create a topic and a subscription, publish, receive. */
export async function publishAndReceive(endpoints: { registry: string[]; publisher: string[]; dispatcher: string[] }) {
  const admin = new Admin({ endpoints: endpoints.registry });
  await admin.createTopic({ name: 'greetings', partitions: 3 });
  await admin.createSubscription({ name: 'greetings-log', topic: 'greetings' });

  const publisher = new Publisher({ endpoints: endpoints.publisher });
  const ids = await Promise.all(
    ['hello', 'bonjour', 'hallo'].map((text) =>
      publisher.publish('greetings', { data: text, attributes: { lang: 'any' } }),
    ),
  );
  await publisher.close();

  const subscriber = new Subscriber({ endpoints: endpoints.dispatcher, subscription: 'greetings-log' });
  const received: string[] = [];
  for await (const message of subscriber) {
    received.push(message.data.toString());
    message.ack();
    if (received.length === ids.length) break; // leaving the loop closes the subscriber
  }
  admin.close();
  return received;
}
