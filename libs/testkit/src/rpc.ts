import { type Client, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type UnaryMethod, unaryCall } from '@herald/api';

/** Calls a unary rpc and resolves with its response (deadline 30 s by default). */
export function rpc<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  timeoutMillis = 30_000,
): Promise<Res> {
  return unaryCall(client, method, request, new Metadata(), timeoutMillis);
}

/** The gRPC status code an rpc failed with, or 'OK'. */
export async function rpcStatus<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
): Promise<{ code: number; codeName: string; details: string }> {
  try {
    await rpc(client, method, request);
    return { code: 0, codeName: 'OK', details: '' };
  } catch (error) {
    const e = error as ServiceError;
    return { code: e.code, codeName: status[e.code] ?? String(e.code), details: e.details };
  }
}
