import { type ChildProcess, fork } from 'node:child_process';
import {
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { DispatcherServiceService, StreamingPullResponse } from '@herald/api';
import { StampedPayloads } from './stamped-payloads';

/**
 * The floor under `fanout`'s publish-to-delivery latency: a bare grpc-js
 * StreamingPull server, run in a process of its own as a dispatcher is, that
 * writes each message to every open stream the moment it is told to, 64
 * streams per turn of the event loop (as the dispatcher's wake queue does),
 * one encoding per message for all streams, and reads acks only to drop them.
 * No Kafka, no registry, no delivery engine: what a fan-out of 1 KB messages
 * to N streams costs grpc-js, the benchmark's own receiving end and this
 * machine, which no dispatcher can go under. The parent tells it what to send
 * over IPC, stamped with the intended send time (`process.hrtime.bigint()` is
 * one clock for every process of the machine).
 */
export class GrpcFloor {
  private attachedStreams = 0;
  private exitCode: number | null | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly address: string,
  ) {
    child.on('message', (message: FloorReport) => {
      if (message.attached !== undefined) this.attachedStreams = message.attached;
    });
    child.on('exit', (code) => (this.exitCode = code));
  }

  /** Starts the server process; resolves once it listens on a loopback port. */
  static start(messageBytes: number): Promise<GrpcFloor> {
    const child = fork(__filename, [floorArgument, String(messageBytes)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const failed = (why: string) => {
        child.kill('SIGKILL');
        reject(new Error(`the grpc-js floor server did not start: ${why}`));
      };
      child.once('error', (error) => failed(error.message));
      child.once('exit', (code) => failed(`exited with ${code}`));
      child.once('message', (message: FloorReport) => {
        child.removeAllListeners('exit');
        if (message.port) resolve(new GrpcFloor(child, `127.0.0.1:${message.port}`));
        else failed(message.error ?? 'no port');
      });
    });
  }

  /** Streams that sent their first request and are still open. */
  get attached(): number {
    return this.attachedStreams;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Sends message `sequence`, stamped `sentAtNanos`, to every open stream. */
  deliver(sequence: number, sentAtNanos: bigint): void {
    this.child.send({ sequence, sentAtNanos: sentAtNanos.toString() } satisfies FloorCommand);
  }

  /** Kills the server (its streams end with it); resolves when it is gone. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

const floorArgument = '--serve-grpc-floor';
/** Streams written per turn of the event loop, as the dispatcher's wake queue does. */
const streamsPerTurn = 64;

interface FloorCommand {
  sequence: number;
  sentAtNanos: string;
}

interface FloorReport {
  port?: number;
  error?: string;
  attached?: number;
}

type PullStream = ServerDuplexStream<unknown, Buffer>;

/** The server side: runs in the child process. */
function serve(messageBytes: number): void {
  const send = (report: FloorReport) => process.send?.(report);
  const streams = new Set<PullStream>();
  const payloads = new StampedPayloads(messageBytes);
  const pull = DispatcherServiceService.streamingPull;
  // Responses are encoded once per message, not once per stream: a Buffer goes through as it is.
  const service: ServiceDefinition = {
    streamingPull: { ...pull, responseSerialize: (bytes: Buffer) => bytes },
  };
  const implementation: UntypedServiceImplementation = {
    streamingPull(stream: PullStream) {
      let attached = false;
      const gone = () => {
        if (streams.delete(stream)) send({ attached: streams.size });
      };
      stream.on('data', () => {
        if (attached) return;
        attached = true;
        streams.add(stream);
        send({ attached: streams.size });
      });
      stream.on('end', () => {
        gone();
        stream.end();
      });
      stream.on('error', gone);
      stream.on('cancelled', gone);
    },
  };
  // Without channelz, as Herald's servers: the floor does no work Herald does not.
  const server = new Server({ 'grpc.max_concurrent_streams': 2 ** 31 - 1, 'grpc.enable_channelz': 0 });
  server.addService(service, implementation);
  process.on('message', (command: FloorCommand) => {
    const response = Buffer.from(
      StreamingPullResponse.encode(
        StreamingPullResponse.fromPartial({
          receivedMessages: [
            {
              ackId: `0/${command.sequence}/floor`,
              messageId: `0-${command.sequence}`,
              data: payloads.make(command.sequence, BigInt(command.sentAtNanos)),
              attributes: {},
              orderingKey: '',
              publishTime: new Date(),
              deliveryAttempt: 1,
            },
          ],
        }),
      ).finish(),
    );
    const targets = [...streams];
    const writeFrom = (first: number) => {
      const end = Math.min(targets.length, first + streamsPerTurn);
      for (let i = first; i < end; i++) targets[i]!.write(response);
      if (end < targets.length) setImmediate(writeFrom, end);
    };
    writeFrom(0);
  });
  process.on('disconnect', () => process.exit(0));
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
    send(error ? { error: error.message } : { port }),
  );
}

if (require.main === module && process.argv[2] === floorArgument) serve(Number(process.argv[3]));
