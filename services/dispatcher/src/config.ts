import { commonEnv, port, readEnv, str } from '@herald/config';

/** Every variable the dispatcher reads, with its default. */
export const dispatcherEnv = {
  ...commonEnv,
  DISPATCHER_HOST: str({ default: '127.0.0.1', desc: 'Address the gRPC server binds; 0.0.0.0 in containers' }),
  DISPATCHER_PORT: port({ default: 50053, desc: 'gRPC port' }),
};

/** The dispatcher's configuration, read once at start-up. */
export function readDispatcherConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnv(dispatcherEnv, env);
}
