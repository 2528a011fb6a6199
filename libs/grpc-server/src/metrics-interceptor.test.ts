import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Message, PublisherServiceClient, PublisherServiceService, unaryCall } from '@herald/api';
import { InvalidArgumentError } from '@herald/errors';
import { silentLogger } from '@herald/logging';
import { createMetricsRegistry } from '@herald/metrics';
import { HeraldServer, bindService } from './server';

describe('HeraldServer metrics', () => {
  it('counts each rpc by method and status code, times it, and exports readiness', async () => {
    const registry = createMetricsRegistry({ service: 'test', enabled: true });
    const server = new HeraldServer({
      logger: silentLogger(),
      metrics: registry,
      services: [
        bindService('herald.v1.PublisherService', PublisherServiceService, {
          publish: async (request) => {
            if (request.topic === 'bad') throw new InvalidArgumentError('topic', 'bad');
            return { messageIds: request.messages.map((_, i) => `id-${i}`) };
          },
          publishStream: async () => undefined,
        }),
      ],
    });
    const port = await server.listen('127.0.0.1', 0);
    server.readiness.setUp('kafka');
    server.readiness.setDown('registry', () => 'not yet');
    const client = new PublisherServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const publish = (topic: string) =>
      unaryCall(
        client,
        client.publish,
        { topic, messages: [Message.fromPartial({ data: Buffer.from('x') })] },
        new grpc.Metadata(),
        5_000,
      );
    try {
      for (let i = 0; i < 3; i++) await publish('orders');
      await assert.rejects(publish('bad'), { code: grpc.status.INVALID_ARGUMENT });
      const text = await registry.metrics();
      const publishLabels = 'grpc_service="herald.v1.PublisherService",grpc_method="Publish",grpc_type="unary"';
      assert.match(text, new RegExp(`^grpc_server_started_total\\{${publishLabels}\\} 4$`, 'm'));
      assert.match(text, new RegExp(`^grpc_server_handled_total\\{${publishLabels},grpc_code="OK"\\} 3$`, 'm'));
      assert.match(
        text,
        new RegExp(`^grpc_server_handled_total\\{${publishLabels},grpc_code="INVALID_ARGUMENT"\\} 1$`, 'm'),
      );
      assert.match(text, new RegExp(`^grpc_server_handling_seconds_count\\{${publishLabels}\\} 4$`, 'm'));
      assert.match(text, new RegExp(`^grpc_server_msg_received_total\\{${publishLabels}\\} 4$`, 'm'));
      assert.match(text, /^herald_ready 0$/m, 'not serving before setServing');
      assert.match(text, /^herald_dependency_up\{dependency="kafka"\} 1$/m);
      assert.match(text, /^herald_dependency_up\{dependency="registry"\} 0$/m);
      server.readiness.setUp('registry');
      server.setServing(true);
      assert.match(await registry.metrics(), /^herald_ready 1$/m);
    } finally {
      client.close();
      await server.stop(1_000);
    }
  });
});
