import { commonEnv, port, readEnv, str } from '@herald/config';

/** Every variable the publisher reads, with its default. */
export const publisherEnv = {
  ...commonEnv,
  PUBLISHER_HOST: str({ default: '127.0.0.1', desc: 'Address the gRPC server binds; 0.0.0.0 in containers' }),
  PUBLISHER_PORT: port({ default: 50051, desc: 'gRPC port' }),
};

/** The publisher's configuration, read once at start-up. */
export function readPublisherConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnv(publisherEnv, env);
}
