import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { Message, PublisherServiceClient, PublisherServiceService, unaryCall } from '@herald/api';
import type { TlsClientAuth } from '@herald/config';
import { HeraldServer, bindService, peerCredentials } from '@herald/grpc-server';
import { createLogger, silentLogger } from '@herald/logging';
import { type IssuedCertificate, TestCa } from '@herald/testkit';

/** A HeraldServer in this process, serving TLS from files a test rewrites. */
describe('HeraldServer over TLS (certificates made with openssl at test time)', function () {
  this.timeout(60_000);
  let ca: TestCa;
  let served: IssuedCertificate;
  let client: IssuedCertificate;
  let server: HeraldServer | undefined;
  let port: number;

  before(() => {
    ca = new TestCa('Herald TLS test CA');
    served = ca.issue('served', { commonName: 'first', hosts: ['127.0.0.1', 'localhost'] });
    client = ca.issue('client', { commonName: 'client', usage: 'client' });
  });
  after(() => ca.remove());
  afterEach(async () => {
    await server?.stop(1_000);
    server = undefined;
  });

  const start = async (clientAuth: TlsClientAuth, logger = silentLogger()) => {
    server = new HeraldServer({
      logger,
      tls: {
        certFile: served.certFile,
        keyFile: served.keyFile,
        clientAuth,
        reloadIntervalMillis: 100,
        ...(clientAuth === 'none' ? {} : { clientCaFile: ca.caFile }),
      },
      services: [
        bindService('herald.v1.PublisherService', PublisherServiceService, {
          publish: async (request) => ({ messageIds: request.messages.map((_, i) => `id-${i}`) }),
          // Answers each request at once: a stream that stays open across a certificate renewal.
          publishStream: (call) =>
            new Promise<void>((resolve) => {
              call.on('data', (request: { requestId: string }) =>
                call.write({ requestId: request.requestId, messageIds: ['id'] }),
              );
              call.on('end', () => {
                call.end();
                resolve();
              });
              call.on('error', () => resolve());
            }),
        }),
      ],
    });
    port = await server.listen('127.0.0.1', 0);
    server.setServing(true);
  };
  const publish = async (creds: grpc.ChannelCredentials) => {
    const publisher = new PublisherServiceClient(`127.0.0.1:${port}`, creds);
    try {
      const messages = [Message.fromPartial({ data: Buffer.from('x') })];
      return await unaryCall(publisher, publisher.publish, { topic: 't', messages }, new grpc.Metadata(), 5_000);
    } finally {
      publisher.close();
    }
  };
  const trusting = () => grpc.credentials.createSsl(readFileSync(ca.caFile));
  const withCertificate = () =>
    grpc.credentials.createSsl(readFileSync(ca.caFile), readFileSync(client.keyFile), readFileSync(client.certFile));
  const servedName = () =>
    new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        ca: readFileSync(ca.caFile),
        ALPNProtocols: ['h2'],
      });
      socket.once('secureConnect', () => {
        const cn = socket.getPeerCertificate().subject?.CN;
        socket.destroy();
        resolve(Array.isArray(cn) ? cn[0]! : (cn ?? ''));
      });
      socket.once('error', reject);
    });
  const until = async (condition: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!(await condition())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('serves a client that trusts its CA, and refuses a plaintext one', async () => {
    await start('none');
    assert.deepEqual((await publish(trusting())).messageIds, ['id-0']);
    await assert.rejects(publish(grpc.credentials.createInsecure()), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      return true;
    });
  });

  it('requires a client certificate under require, and takes one under optional', async () => {
    await start('require');
    await assert.rejects(publish(trusting()), (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE);
    assert.deepEqual((await publish(withCertificate())).messageIds, ['id-0']);
    await server!.stop(1_000);
    await start('optional');
    await publish(trusting());
    await publish(withCertificate());
  });

  it('keeps the old certificate through a broken renewal, takes a good one, and keeps open streams', async () => {
    const lines: string[] = [];
    const logger = createLogger({ service: 'tls-test', destination: { write: (line: string) => lines.push(line) } });
    await start('none', logger);
    assert.equal(await servedName(), 'first');
    const publisher = new PublisherServiceClient(`127.0.0.1:${port}`, trusting());
    const stream = publisher.publishStream();
    const answers: string[] = [];
    stream.on('data', (response: { requestId: string }) => answers.push(response.requestId));
    stream.on('error', () => {});
    const send = (requestId: string) =>
      stream.write({ requestId, topic: 't', messages: [Message.fromPartial({ data: Buffer.from('x') })] });
    send('before');
    await until(async () => answers.includes('before'), 'the first answer');

    // A key that is not the certificate's, as when a renewal is caught half written.
    const other = ca.issue('other', { commonName: 'other', hosts: ['127.0.0.1'] });
    const goodKey = readFileSync(served.keyFile);
    copyFileSync(other.keyFile, served.keyFile);
    await until(async () => lines.some((line) => line.includes('do not load')), 'the broken renewal logged');
    assert.equal(await servedName(), 'first');
    writeFileSync(served.keyFile, goodKey);

    ca.issue('served', { commonName: 'second', hosts: ['127.0.0.1', 'localhost'] });
    await until(async () => (await servedName()) === 'second', 'the renewed certificate');
    assert.ok(lines.some((line) => line.includes('TLS certificate reloaded')));
    send('after');
    await until(async () => answers.includes('after'), 'an answer on the stream opened before the renewal');
    assert.deepEqual((await publish(trusting())).messageIds, ['id-0']);
    stream.end();
    publisher.close();
  });

  it('renews the client certificate of the services’ own calls without new credentials', async () => {
    await start('require');
    const rogue = new TestCa('Not the services’ CA');
    try {
      // The files a service names in HERALD_TLS_CLIENT_CERT/KEY, first holding a certificate the server refuses.
      const own = ca.issue('own', { commonName: 'own', usage: 'client' });
      const wrong = rogue.issue('wrong', { commonName: 'wrong', usage: 'client' });
      const goodCert = readFileSync(own.certFile);
      const goodKey = readFileSync(own.keyFile);
      copyFileSync(wrong.certFile, own.certFile);
      copyFileSync(wrong.keyFile, own.keyFile);
      const creds = peerCredentials({
        peerTls: { caFile: ca.caFile, certFile: own.certFile, keyFile: own.keyFile, reloadIntervalMillis: 100 },
      });
      const publisher = new PublisherServiceClient(`127.0.0.1:${port}`, creds);
      const call = () =>
        unaryCall(
          publisher,
          publisher.publish,
          { topic: 't', messages: [Message.fromPartial({ data: Buffer.from('x') })] },
          new grpc.Metadata(),
          2_000,
        );
      await assert.rejects(call(), (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE);
      writeFileSync(own.keyFile, goodKey);
      writeFileSync(own.certFile, goodCert);
      await until(
        () =>
          call().then(
            () => true,
            () => false,
          ),
        'a call with the renewed certificate',
      );
      publisher.close();
    } finally {
      rogue.remove();
    }
  });
});
