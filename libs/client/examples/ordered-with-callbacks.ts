import { Admin, Publisher, type ReceivedMessage, Subscriber } from '@herald/client';

/** The README's second example: ordered delivery per key, callback style, a nack and its redelivery. */
export async function orderedWithCallbacks(endpoints: {
  registry: string[];
  publisher: string[];
  dispatcher: string[];
}) {
  const admin = new Admin({ endpoints: endpoints.registry });
  await admin.createTopic({ name: 'account-events' });
  await admin.createSubscription({
    name: 'account-projection',
    topic: 'account-events',
    enableMessageOrdering: true,
    retryPolicy: { minimumBackoffMillis: 100, maximumBackoffMillis: 1_000 },
  });

  const publisher = new Publisher({ endpoints: endpoints.publisher });
  for (const event of ['opened', 'deposited', 'withdrew', 'closed']) {
    await publisher.publish('account-events', { data: event, orderingKey: 'account-42' });
  }
  await publisher.close();

  const seen: string[] = [];
  const subscriber = new Subscriber({ endpoints: endpoints.dispatcher, subscription: 'account-projection' });
  await new Promise<void>((resolve) => {
    subscriber.on('message', (message: ReceivedMessage) => {
      const event = message.data.toString();
      seen.push(`${event}#${message.deliveryAttempt}`);
      // The first 'deposited' fails: it comes back, and 'withdrew' waits for it.
      if (event === 'deposited' && message.deliveryAttempt === 1) return message.nack();
      message.ack();
      if (event === 'closed') resolve();
    });
  });
  await subscriber.close();
  admin.close();
  return seen; // ['opened#1', 'deposited#1', 'deposited#2', 'withdrew#1', 'closed#1']
}
