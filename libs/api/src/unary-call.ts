import type { CallOptions, Client, Metadata, ServiceError } from '@grpc/grpc-js';

/** A unary method of a generated grpc-js client, in its callback form. */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** Calls a unary rpc of a generated grpc-js client and returns a promise; `timeoutMillis` sets the deadline. */
export function unaryCall<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata: Metadata,
  timeoutMillis: number,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, request, metadata, { deadline: Date.now() + timeoutMillis }, (error, response) => {
      if (error) reject(error);
      else resolve(response);
    });
  });
}
