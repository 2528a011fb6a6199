import * as grpc from '@grpc/grpc-js';

const identity = (bytes: Buffer): Buffer => bytes;

/** How a raw call ended: its status name, or `HANG` when the deadline passed. */
export type RawOutcome = string;

const RawClient = grpc.makeGenericClientConstructor({}, 'RawClient');

/**
 * A gRPC client that sends raw bytes as request frames, whatever the method
 * expects: garbage, truncated or mistyped protobuf, a request of another
 * method. It reads responses as raw bytes too.
 */
export class RawGrpc {
  private readonly client: grpc.Client;

  constructor(
    readonly address: string,
    credentials: grpc.ChannelCredentials,
  ) {
    this.client = new RawClient(address, credentials, {
      'grpc.max_send_message_length': 256 * 1024 * 1024,
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
    });
  }

  /** One unary call; resolves with `OK` or the status name (`DEADLINE_EXCEEDED` is a hang). */
  unary(path: string, request: Buffer, timeoutMillis = 15_000): Promise<RawOutcome> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        path,
        identity,
        identity,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMillis },
        (error) => resolve(error ? codeName(error.code) : 'OK'),
      );
    });
  }

  /**
   * A server-streaming call: sends `request`, reads for `holdMillis`, then
   * cancels. Resolves with the status it ended with by itself, or `OPEN` when it
   * was still streaming (the normal state of Watch and Tail).
   */
  serverStream(path: string, request: Buffer, holdMillis: number): Promise<RawOutcome> {
    const call = this.client.makeServerStreamRequest(path, identity, identity, request, new grpc.Metadata());
    const ending = watchEnding(call);
    ending.holdFor(holdMillis);
    return ending.outcome;
  }

  /**
   * A bidi call: writes `frames` (spaced by `gapMillis`), then waits up to
   * `holdMillis` for the server to end it. Resolves with the status, or `OPEN`
   * when the server kept it open (then it is cancelled).
   */
  bidi(path: string, frames: Buffer[], holdMillis: number, gapMillis = 0): Promise<RawOutcome> {
    const call = this.client.makeBidiStreamRequest(path, identity, identity, new grpc.Metadata());
    const ending = watchEnding(call);
    ending.holdFor(holdMillis + frames.length * gapMillis);
    void (async () => {
      for (const frame of frames) {
        if (ending.done()) return;
        call.write(frame);
        if (gapMillis > 0) await new Promise((r) => setTimeout(r, gapMillis));
      }
      ending.holdFor(holdMillis);
    })();
    return ending.outcome;
  }

  /** Opens a bidi stream and returns it, for floods and churn. */
  openBidi(path: string): grpc.ClientDuplexStream<Buffer, Buffer> {
    return this.client.makeBidiStreamRequest(path, identity, identity, new grpc.Metadata());
  }

  /** Opens a server stream and returns it. */
  openServerStream(path: string, request: Buffer): grpc.ClientReadableStream<Buffer> {
    return this.client.makeServerStreamRequest(path, identity, identity, request, new grpc.Metadata());
  }

  close(): void {
    this.client.close();
  }
}

/**
 * How a streaming call ends: its status when it ends by itself, or `OPEN` when
 * the hold time set last runs out first (then it is cancelled).
 */
function watchEnding(call: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>) {
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  let resolve!: (outcome: RawOutcome) => void;
  const outcome = new Promise<RawOutcome>((r) => (resolve = r));
  const finish = (result: string) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    call.cancel();
    resolve(result);
  };
  call.on('data', () => undefined);
  call.on('error', (error: grpc.ServiceError) => finish(codeName(error.code)));
  call.on('end', () => finish('OK'));
  return {
    outcome,
    done: () => done,
    holdFor(millis: number) {
      clearTimeout(timer);
      timer = setTimeout(() => finish('OPEN'), millis);
    },
  };
}

export function codeName(code: number | undefined): string {
  return code === undefined ? 'UNKNOWN' : (grpc.status[code] ?? String(code));
}
