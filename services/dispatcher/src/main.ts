import { DispatcherServiceService } from '@herald/api';
import { UnimplementedError } from '@herald/errors';
import { HeraldServer, bindService, runMain, stopOnSignals } from '@herald/grpc-server';
import { createLogger } from '@herald/logging';
import { readDispatcherConfig } from './config';

runMain('dispatcher', async () => {
  const config = readDispatcherConfig();
  const logger = createLogger({ service: 'dispatcher', level: config.LOG_LEVEL, instance: config.HERALD_INSTANCE_ID });
  const notYet = async () => {
    throw new UnimplementedError('not implemented yet');
  };
  const server = new HeraldServer({
    logger,
    services: [
      bindService('herald.v1.DispatcherService', DispatcherServiceService, { streamingPull: notYet, tail: notYet }),
    ],
  });
  await server.listen(config.DISPATCHER_HOST, config.DISPATCHER_PORT);
  server.setServing(true);
  stopOnSignals(logger, () => server.stop());
});
