import { PublisherServiceService } from '@herald/api';
import { UnimplementedError } from '@herald/errors';
import { HeraldServer, bindService, runMain, stopOnSignals } from '@herald/grpc-server';
import { createLogger } from '@herald/logging';
import { readPublisherConfig } from './config';

runMain('publisher', async () => {
  const config = readPublisherConfig();
  const logger = createLogger({ service: 'publisher', level: config.LOG_LEVEL, instance: config.HERALD_INSTANCE_ID });
  const notYet = async () => {
    throw new UnimplementedError('not implemented yet');
  };
  const server = new HeraldServer({
    logger,
    services: [
      bindService('herald.v1.PublisherService', PublisherServiceService, { publish: notYet, publishStream: notYet }),
    ],
  });
  await server.listen(config.PUBLISHER_HOST, config.PUBLISHER_PORT);
  server.setServing(true);
  stopOnSignals(logger, () => server.stop());
});
