import { SubscriberRegistryServiceService } from '@herald/api';
import { UnimplementedError } from '@herald/errors';
import { HeraldServer, bindService, runMain, stopOnSignals } from '@herald/grpc-server';
import { createLogger } from '@herald/logging';
import { readRegistryConfig } from './config';

runMain('subscriber-registry', async () => {
  const config = readRegistryConfig();
  const logger = createLogger({
    service: 'subscriber-registry',
    level: config.LOG_LEVEL,
    instance: config.HERALD_INSTANCE_ID,
  });
  const notYet = async () => {
    throw new UnimplementedError('not implemented yet');
  };
  const server = new HeraldServer({
    logger,
    services: [
      bindService('herald.v1.SubscriberRegistryService', SubscriberRegistryServiceService, {
        createTopic: notYet,
        getTopic: notYet,
        listTopics: notYet,
        deleteTopic: notYet,
        createSubscription: notYet,
        getSubscription: notYet,
        listSubscriptions: notYet,
        updateSubscription: notYet,
        deleteSubscription: notYet,
        seek: notYet,
        watch: notYet,
      }),
    ],
  });
  await server.listen(config.REGISTRY_HOST, config.REGISTRY_PORT);
  server.setServing(true);
  stopOnSignals(logger, () => server.stop());
});
