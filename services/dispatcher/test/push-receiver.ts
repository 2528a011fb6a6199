import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Server as GrpcServer,
  type ServerUnaryCall,
  type sendUnaryData,
  ServerCredentials,
  Server,
  status,
} from '@grpc/grpc-js';
import { type PushRequest, type PushResponse, PushEndpointServiceService } from '@herald/api';
import { type CloudEventV1, HTTP } from 'cloudevents';

/** One push request as a test receiver saw it. */
export interface Received {
  messageId: string;
  attempt: number;
  orderingKey: string;
  attributes: Record<string, string>;
  data: Buffer;
  headers: http.IncomingHttpHeaders | Record<string, string>;
  /** The bearer token, without `Bearer `. */
  token: string;
  startedAt: number;
  /** Requests in flight at this receiver when this one arrived, itself included. */
  concurrent: number;
  /** Of the same ordering key, itself included. */
  concurrentForKey: number;
  /** What the receiver answered (HTTP status, or gRPC status code). */
  answer?: number;
  event?: CloudEventV1<unknown>;
}

/** What a receiver does with a request: its status, after an optional delay. */
export type Respond = (received: Received) => { status: number; delayMillis?: number };

/** Counts in flight, overall and per ordering key. */
class InFlight {
  now = 0;
  readonly perKey = new Map<string, number>();

  enter(key: string): [number, number] {
    this.now++;
    const forKey = (this.perKey.get(key) ?? 0) + 1;
    this.perKey.set(key, forKey);
    return [this.now, forKey];
  }

  leave(key: string): void {
    this.now--;
    this.perKey.set(key, (this.perKey.get(key) ?? 1) - 1);
  }
}

/**
 * A real HTTP endpoint receiving Herald's CloudEvents (binary or structured),
 * answering as the test says, and recording every request.
 */
export class HttpReceiver {
  readonly received: Received[] = [];
  /** Requests that could not be read as Herald's CloudEvents, and why. */
  readonly unreadable: string[] = [];
  respond: Respond = () => ({ status: 200 });
  private readonly inFlight = new InFlight();
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  /** Listens on a port the system picks (fixed ports in the ephemeral range collide with other connections). */
  static async start(): Promise<HttpReceiver> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const receiver = new HttpReceiver(server, (server.address() as AddressInfo).port);
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) =>
      receiver.handle(request, response),
    );
    return receiver;
  }

  url(path = '/push'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Distinct message ids answered 2xx. */
  get acked(): Set<string> {
    return new Set(this.received.filter((r) => r.answer! >= 200 && r.answer! < 300).map((r) => r.messageId));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        this.record(request, response, Buffer.concat(chunks));
      } catch (error) {
        // A request the test cannot read is a failure to see, not a hang until the dispatcher's timeout.
        this.unreadable.push(String(error));
        response.writeHead(400).end();
      }
    });
  }

  private record(request: http.IncomingMessage, response: http.ServerResponse, body: Buffer): void {
    const binary = !String(request.headers['content-type']).startsWith('application/cloudevents+json');
    const event = (
      binary ? HTTP.toEvent({ headers: request.headers, body }) : JSON.parse(body.toString('utf8'))
    ) as CloudEventV1<unknown>;
    const text = (value: unknown) => (binary ? decodeURIComponent(String(value ?? '')) : String(value ?? ''));
    const orderingKey = text(event.heraldorderingkey);
    const attributes = JSON.parse(text(event.heraldattributes)) as Record<string, string>;
    const [concurrent, concurrentForKey] = this.inFlight.enter(orderingKey);
    const received: Received = {
      messageId: event.id,
      attempt: Number(event.heraldattempt),
      orderingKey,
      attributes,
      data: binary ? body : Buffer.from(String(event.data_base64), 'base64'),
      headers: request.headers,
      token: String(request.headers.authorization ?? '').replace(/^Bearer /, ''),
      startedAt: Date.now(),
      concurrent,
      concurrentForKey,
      event,
    };
    this.received.push(received);
    const { status: code, delayMillis } = this.respond(received);
    const answer = () => {
      this.inFlight.leave(orderingKey);
      received.answer = code;
      response.writeHead(code).end();
    };
    if (delayMillis) setTimeout(answer, delayMillis);
    else answer();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** A real gRPC server implementing herald.v1.PushEndpointService. */
export class GrpcReceiver {
  readonly received: Received[] = [];
  /** A gRPC status code per request (0: OK). */
  respond: Respond = () => ({ status: status.OK });
  private readonly inFlight = new InFlight();
  /** Where it listens. */
  port = 0;

  private constructor(private readonly server: GrpcServer) {}

  /** Listens on a port the system picks. */
  static async start(): Promise<GrpcReceiver> {
    const server = new Server();
    const receiver = new GrpcReceiver(server);
    server.addService(PushEndpointServiceService, {
      push: (call: ServerUnaryCall<PushRequest, PushResponse>, callback: sendUnaryData<PushResponse>) =>
        receiver.handle(call, callback),
    });
    receiver.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    return receiver;
  }

  private handle(call: ServerUnaryCall<PushRequest, PushResponse>, callback: sendUnaryData<PushResponse>): void {
    const message = call.request.message!;
    const [concurrent, concurrentForKey] = this.inFlight.enter(message.orderingKey);
    const received: Received = {
      messageId: message.messageId,
      attempt: message.deliveryAttempt,
      orderingKey: message.orderingKey,
      attributes: message.attributes,
      data: Buffer.from(message.data),
      headers: Object.fromEntries(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)])),
      token: String(call.metadata.get('authorization')[0] ?? '').replace(/^Bearer /, ''),
      startedAt: Date.now(),
      concurrent,
      concurrentForKey,
    };
    this.received.push(received);
    const { status: code, delayMillis } = this.respond(received);
    setTimeout(() => {
      this.inFlight.leave(message.orderingKey);
      received.answer = code;
      if (code === status.OK) callback(null, {});
      else callback({ code, details: `test receiver answers ${status[code]}` });
    }, delayMillis ?? 0);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
