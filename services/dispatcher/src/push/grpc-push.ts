import { type ChannelOptions, Metadata, type ServiceError, credentials, status } from '@grpc/grpc-js';
import { PushEndpointServiceClient } from '@herald/api';
import { parseGrpcPushTarget } from '@herald/resource-names';
import type { TraceHeaders } from '@herald/tracing';
import type { PushOutcome } from '../domain/adaptive-concurrency';
import type { Delivery } from '../domain/delivery-engine';
import { messageToProto } from '../grpc/proto-mapping';
import type { EndpointGuard } from './endpoint-guard';
import { failureResult } from './push-failure';
import type { PushTokens } from './push-token';
import type { PushResult, PushTransport } from './push-transport';

/** How long a checked resolution of the target's host is used before it is resolved again. */
const resolvedForMillis = 30_000;

/** Options of {@link GrpcPush}. */
export interface GrpcPushOptions {
  subscription: string;
  /** `host:port` (TLS) or `grpc://host:port` (plaintext), as the subscription names it. */
  target: string;
  guard: EndpointGuard;
  tokens: PushTokens;
}

/**
 * Calls `herald.v1.PushEndpointService/Push` once per delivery. The host is
 * resolved and checked by the guard, and the channel is made to the checked
 * address itself (with the host name kept for TLS and `:authority`), so gRPC's
 * own resolver never picks an unchecked one. The address is resolved again
 * every 30 s, and after a call finds the endpoint unavailable.
 */
export class GrpcPush implements PushTransport {
  private readonly host: string;
  private readonly port: number;
  private readonly secure: boolean;
  private client: { instance: PushEndpointServiceClient; address: string; resolvedAt: number } | undefined;

  constructor(private readonly options: GrpcPushOptions) {
    // The registry checked the target against its own rules; here only its parts are needed.
    ({ host: this.host, port: this.port, secure: this.secure } = parseGrpcPushTarget('target', options.target, true));
  }

  get endpoint(): string {
    return this.options.target;
  }

  async check(): Promise<void> {
    await this.options.guard.resolve(this.host);
  }

  async push(
    delivery: Delivery,
    timeoutMillis: number,
    signal: AbortSignal,
    trace?: TraceHeaders,
  ): Promise<PushResult> {
    try {
      const client = await this.clientFor();
      const token = await this.options.tokens.token(this.options.target, this.options.subscription);
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      if (trace) metadata.set('traceparent', trace.traceparent);
      if (trace?.tracestate) metadata.set('tracestate', trace.tracestate);
      const request = {
        subscription: this.options.subscription,
        message: trace
          ? messageToProto(delivery.message, '', delivery.deliveryAttempt, trace)
          : messageToProto(delivery.message, '', delivery.deliveryAttempt),
      };
      return await new Promise<PushResult>((resolve) => {
        const call = client.push(request, metadata, { deadline: Date.now() + timeoutMillis }, (error) => {
          signal.removeEventListener('abort', cancel);
          if (!error) return resolve({ outcome: 'ok', detail: 'OK' });
          const outcome = outcomeOfStatus(error);
          if (outcome === 'server-error' || outcome === 'network-error') this.dropClient(client);
          resolve({ outcome, detail: `${status[error.code]}: ${error.details}` });
        });
        const cancel = () => call.cancel();
        signal.addEventListener('abort', cancel, { once: true });
      });
    } catch (error) {
      return failureResult(error);
    }
  }

  close(): void {
    this.client?.instance.close();
    this.client = undefined;
  }

  private async clientFor(): Promise<PushEndpointServiceClient> {
    const now = Date.now();
    if (this.client && now - this.client.resolvedAt < resolvedForMillis) return this.client.instance;
    const [address] = await this.options.guard.resolve(this.host);
    if (this.client?.address === address) {
      this.client.resolvedAt = now;
      return this.client.instance;
    }
    this.client?.instance.close();
    const channelOptions: ChannelOptions = { 'grpc.default_authority': `${this.host}:${this.port}` };
    if (this.secure) channelOptions['grpc.ssl_target_name_override'] = this.host;
    const instance = new PushEndpointServiceClient(
      `${address!.includes(':') ? `[${address}]` : address}:${this.port}`,
      this.secure ? credentials.createSsl() : credentials.createInsecure(),
      channelOptions,
    );
    this.client = { instance, address: address!, resolvedAt: now };
    return instance;
  }

  private dropClient(client: PushEndpointServiceClient): void {
    if (this.client?.instance !== client) return;
    this.client.resolvedAt = 0;
  }
}

function outcomeOfStatus(error: ServiceError): PushOutcome {
  switch (error.code) {
    case status.RESOURCE_EXHAUSTED:
      return 'throttled';
    case status.DEADLINE_EXCEEDED:
      return 'timeout';
    case status.UNAVAILABLE:
      return 'network-error';
    case status.INTERNAL:
    case status.UNKNOWN:
    case status.ABORTED:
    case status.DATA_LOSS:
      return 'server-error';
    default:
      return 'rejected';
  }
}
