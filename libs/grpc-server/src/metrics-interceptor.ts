import {
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
  ServerInterceptingCall,
  status,
} from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from '@herald/metrics';

/** Latency buckets, in seconds: from a cached unary answer to a stream held for hours. */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];

const codeNames = new Map(Object.entries(status).map(([name, code]) => [code as number, name]));

/**
 * Counts every rpc the server handles, its status code and how long it took,
 * under the names go-grpc-prometheus made usual (`grpc_server_started_total`,
 * `grpc_server_handled_total`, `grpc_server_handling_seconds`, and messages
 * received and sent), so existing gRPC dashboards read Herald as they are.
 * One interceptor for every method of every service: handlers count nothing.
 */
export function metricsInterceptor(registry: Registry): ServerInterceptor {
  const labelNames = ['grpc_service', 'grpc_method', 'grpc_type'] as const;
  const started = new Counter({
    name: 'grpc_server_started_total',
    help: 'RPCs started on the server',
    labelNames,
    registers: [registry],
  });
  const handled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'RPCs completed on the server, whatever their status',
    labelNames: [...labelNames, 'grpc_code'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time from the start of an RPC to its status, in seconds (streams: their whole life)',
    labelNames,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const received = new Counter({
    name: 'grpc_server_msg_received_total',
    help: 'Request messages received on the server',
    labelNames,
    registers: [registry],
  });
  const sent = new Counter({
    name: 'grpc_server_msg_sent_total',
    help: 'Response messages sent by the server',
    labelNames,
    registers: [registry],
  });
  // The label values of a method, computed once: the path is split on the first call only.
  const methods = new Map<string, Record<(typeof labelNames)[number], string>>();
  const labelsOf = (method: ServerMethodDefinition<unknown, unknown>) => {
    let labels = methods.get(method.path);
    if (!labels) {
      const [, service = '', name = ''] = method.path.split('/');
      const type = method.requestStream
        ? method.responseStream
          ? 'bidi_stream'
          : 'client_stream'
        : method.responseStream
          ? 'server_stream'
          : 'unary';
      labels = { grpc_service: service, grpc_method: name, grpc_type: type };
      methods.set(method.path, labels);
    }
    return labels;
  };

  return (method: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => {
    const labels = labelsOf(method);
    const startedAt = process.hrtime.bigint();
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      handled.inc({ ...labels, grpc_code: codeNames.get(code) ?? String(code) });
      seconds.observe(labels, Number(process.hrtime.bigint() - startedAt) / 1e9);
    };
    started.inc(labels);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMessage: (message, nextMessage) => {
            received.inc(labels);
            nextMessage(message);
          },
          onCancel: () => finish(status.CANCELLED),
        }),
      sendMessage: (message, next) => {
        sent.inc(labels);
        next(message);
      },
      sendStatus: (callStatus, next) => {
        finish(callStatus.code);
        next(callStatus);
      },
    });
  };
}
