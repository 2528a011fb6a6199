import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { TraceHeaders } from '@herald/tracing';
import { CloudEvent, HTTP } from 'cloudevents';
import type { Delivery } from '../domain/delivery-engine';
import type { EndpointGuard } from './endpoint-guard';
import type { PushTokens } from './push-token';
import type { PushResult, PushTransport } from './push-transport';
import { failureResult } from './push-failure';

/** The CloudEvents `type` of every message Herald pushes. */
export const pushEventType = 'dev.herald.message.v1';

/** Options of {@link HttpPush}. */
export interface HttpPushOptions {
  subscription: string;
  url: string;
  mode: 'binary' | 'structured';
  /** The token's `aud`; the URL when empty. */
  audience: string;
  /** Sockets kept per endpoint: the subscription's concurrency ceiling. */
  maxSockets: number;
  guard: EndpointGuard;
  tokens: PushTokens;
}

/**
 * Pushes each delivery as a CloudEvent in one POST (binary or structured
 * mode). Connections are kept alive and reused; every new one resolves the
 * host through the guard. Redirects are not followed: they count as a refusal
 * of the message (`rejected`), so an endpoint cannot send the dispatcher on
 * to another address.
 */
export class HttpPush implements PushTransport {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly host: string;

  constructor(private readonly options: HttpPushOptions) {
    this.url = new URL(options.url);
    this.host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    // Idle connections are closed after 4 s, before the common 5 s of servers (Node's included): a request
    // sent on a connection the server is closing at that moment fails, and would be a needless nack.
    const agentOptions = {
      keepAlive: true,
      timeout: 4_000,
      maxSockets: options.maxSockets,
      lookup: options.guard.lookup,
    };
    this.agent = this.url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  get endpoint(): string {
    return this.options.url;
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
      if (isIP(this.host)) this.options.guard.check(this.host, this.host);
      const token = await this.options.tokens.token(
        this.options.audience || this.options.url,
        this.options.subscription,
      );
      const { headers, body } = cloudEventOf(delivery, this.options.subscription, this.options.mode, trace);
      return await this.post(body, { ...headers, authorization: `Bearer ${token}` }, timeoutMillis, signal);
    } catch (error) {
      return failureResult(error);
    }
  }

  private post(
    body: Buffer,
    headers: Record<string, string>,
    timeoutMillis: number,
    signal: AbortSignal,
  ): Promise<PushResult> {
    return new Promise<PushResult>((resolve) => {
      let timedOut = false;
      const request = (this.url.protocol === 'https:' ? https : http).request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'content-length': String(body.length), 'user-agent': 'herald-dispatcher' },
        signal,
      });
      const timer = setTimeout(() => {
        timedOut = true;
        request.destroy();
      }, timeoutMillis);
      const done = (result: PushResult) => {
        clearTimeout(timer);
        resolve(result);
      };
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        // The body is not read, only drained, so the connection can be reused; a reset while draining is no matter.
        response.on('error', () => undefined);
        response.resume();
        done({ outcome: outcomeOfStatus(status), detail: `HTTP ${status}` });
      });
      request.on('error', (error) =>
        done(timedOut ? { outcome: 'timeout', detail: `no answer within ${timeoutMillis} ms` } : failureResult(error)),
      );
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function outcomeOfStatus(status: number): PushResult['outcome'] {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'server-error';
  return 'rejected';
}

/**
 * A delivery as a CloudEvent in an HTTP message. Binary mode: the payload is
 * the body as published, the event's attributes `ce-*` headers, whose string
 * values are percent-encoded where the HTTP binding asks for it (space, `"`,
 * `%` and anything outside printable ASCII). Structured mode: one JSON
 * document, the payload as `data_base64`.
 */
export function cloudEventOf(
  delivery: Delivery,
  subscription: string,
  mode: 'binary' | 'structured',
  trace: TraceHeaders | undefined = delivery.message.traceContext
    ? { traceparent: delivery.message.traceContext, tracestate: delivery.message.traceState }
    : undefined,
): { headers: Record<string, string>; body: Buffer } {
  const { message } = delivery;
  const text = mode === 'binary' ? percentEncoded : (value: string) => value;
  const extensions: Record<string, string | number> = {
    heraldattributes: text(JSON.stringify(message.attributes)),
    heraldattempt: delivery.deliveryAttempt,
  };
  if (message.orderingKey) extensions.heraldorderingkey = text(message.orderingKey);
  // The CloudEvents distributed-tracing extension: the dispatcher's span when it traces, else the record's context.
  if (trace) extensions.traceparent = trace.traceparent;
  if (trace?.tracestate) extensions.tracestate = text(trace.tracestate);
  // Not validated against the schema (strict false): every field is set here, well-formed, and
  // validating each message would cost more than making it.
  const event = new CloudEvent(
    {
      id: message.messageId,
      source: `//herald/subscriptions/${subscription}`,
      type: pushEventType,
      time: new Date(message.publishTimeMillis).toISOString(),
      datacontenttype: 'application/octet-stream',
      data: message.data,
      ...extensions,
    },
    false,
  );
  const encoded = mode === 'binary' ? HTTP.binary(event) : HTTP.structured(event);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(encoded.headers)) headers[name] = String(value);
  const body = encoded.body;
  return { headers, body: Buffer.isBuffer(body) ? body : Buffer.from(String(body ?? ''), 'utf8') };
}

/** The HTTP binding's encoding of a string header value. */
export function percentEncoded(value: string): string {
  return value.replace(/[^\x21\x23\x24\x26-\x7e]+/g, (run) =>
    [...Buffer.from(run, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}
