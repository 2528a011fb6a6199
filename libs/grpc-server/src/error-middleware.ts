import type {
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  UntypedServiceImplementation,
  sendUnaryData,
} from '@grpc/grpc-js';
import { UnavailableError, toStatus } from '@herald/errors';
import type { Logger } from '@herald/logging';
import type { Readiness } from './readiness';

/** A unary handler: returns the response or throws a Herald error. */
export type UnaryHandler<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;
/** A server-streaming handler: writes to the call and resolves when it is done. */
export type ServerStreamHandler<Req, Res> = (call: ServerWritableStream<Req, Res>) => Promise<void>;
/** A bidirectional-streaming handler: resolves when the stream is done. */
export type BidiStreamHandler<Req, Res> = (call: ServerDuplexStream<Req, Res>) => Promise<void>;
/** A client-streaming handler: returns the one response. */
export type ClientStreamHandler<Req, Res> = (call: ServerReadableStream<Req, Res>) => Promise<Res>;

/** Handler types for each method of a ts-proto service definition, as plain async functions. */
export type AsyncService<D> = {
  [K in keyof D]: D[K] extends {
    requestStream: infer RS;
    responseStream: infer SS;
    requestDeserialize: (b: Buffer) => infer Req;
    responseSerialize: (r: infer Res) => Buffer;
  }
    ? RS extends true
      ? SS extends true
        ? BidiStreamHandler<Req, Res>
        : ClientStreamHandler<Req, Res>
      : SS extends true
        ? ServerStreamHandler<Req, Res>
        : UnaryHandler<Req, Res>
    : never;
};

/** Which dependencies (as {@link Readiness} names them) each method of a service needs. */
export type MethodNeeds<D> = Partial<Record<keyof D, readonly string[]>>;

/** How {@link withErrorHandling} fails calls whose dependencies are down. */
export interface DependencyGate {
  readiness: Readiness;
  /** Dependencies per method name (the definition's keys). */
  needs: Record<string, readonly string[] | undefined>;
}

/**
 * Turns plain async handlers into grpc-js handlers. Every thrown value goes
 * through `toStatus`, the one map from errors to gRPC statuses; unexpected
 * errors are logged with their stack and reach the caller as a bare UNKNOWN.
 *
 * With a `gate`, a call to a method whose dependency is down fails at once
 * with UNAVAILABLE and the reason, rather than waiting for a timeout inside;
 * streams of such a method still open when the dependency goes down are
 * ended the same way, so that their clients reconnect somewhere ready.
 */
export function withErrorHandling<D extends ServiceDefinition>(
  definition: D,
  handlers: AsyncService<D>,
  logger: Logger,
  gate?: DependencyGate,
  /** Filled with the open server-streaming calls (not bidirectional ones), which never end by themselves. */
  serverStreams?: Set<ServerWritableStream<unknown, unknown>>,
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  const openStreams = new Map<ServerWritableStream<unknown, unknown>, readonly string[]>();
  gate?.readiness.on('change', (dependency, up) => {
    if (up) return;
    for (const [call, needs] of openStreams) {
      if (!needs.includes(dependency) || call.cancelled || call.writableEnded) continue;
      const details = gate.readiness.reasonDown([dependency]) ?? `${dependency} unavailable`;
      const status = toStatus(new UnavailableError(details));
      call.emit('error', { code: status.code, details: status.details });
    }
  });
  for (const [method, spec] of Object.entries(definition)) {
    const handler = (handlers as Record<string, (...args: unknown[]) => Promise<unknown>>)[method];
    if (!handler) throw new Error(`no handler for ${spec.path}`);
    const needs = gate?.needs[method] ?? [];
    const unavailable = () => {
      const reason = needs.length > 0 ? gate!.readiness.reasonDown(needs) : undefined;
      return reason === undefined ? undefined : new UnavailableError(reason);
    };
    const fail = (error: unknown) => {
      const status = toStatus(error);
      if (status.unexpected) logger.error({ err: error, method: spec.path }, 'unexpected error in handler');
      else logger.debug({ method: spec.path, code: status.code, details: status.details }, 'request failed');
      return { code: status.code, details: status.details };
    };
    if (!spec.responseStream) {
      implementation[method] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const refused = unavailable();
        if (refused) return callback(fail(refused));
        const result = spec.requestStream ? handler(call) : handler(call.request, call);
        result.then(
          (response) => callback(null, response),
          (error: unknown) => callback(fail(error)),
        );
      };
    } else {
      implementation[method] = (call: ServerWritableStream<unknown, unknown>) => {
        const refused = unavailable();
        if (refused) return void call.emit('error', fail(refused));
        if (needs.length > 0) openStreams.set(call, needs);
        if (!spec.requestStream) serverStreams?.add(call);
        handler(call).then(
          () => {
            openStreams.delete(call);
            serverStreams?.delete(call);
            if (!call.writableEnded) call.end();
          },
          (error: unknown) => {
            openStreams.delete(call);
            serverStreams?.delete(call);
            if (call.cancelled || call.writableEnded) return;
            call.emit('error', fail(error));
          },
        );
      };
    }
  }
  return implementation;
}
