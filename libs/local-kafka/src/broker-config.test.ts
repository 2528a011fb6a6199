import assert from 'node:assert/strict';
import { brokerProperties, type NodeSpec } from './broker-config';

function parse(properties: string): Map<string, string> {
  return new Map(
    properties
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as [string, string];
      }),
  );
}

const node = (id: number, host = '127.0.0.1'): NodeSpec => ({
  id,
  host,
  port: 19090 + 2 * id,
  controllerPort: 19091 + 2 * id,
  logDir: `/data/node-${id}`,
});

describe('brokerProperties', () => {
  it('makes a three-node cluster durable: replication factor 3, min ISR 2, no unclean election', () => {
    const nodes = [node(1), node(2), node(3)];
    const settings = parse(brokerProperties(nodes[1]!, nodes));
    assert.equal(settings.get('node.id'), '2');
    assert.equal(settings.get('process.roles'), 'broker,controller');
    assert.equal(settings.get('default.replication.factor'), '3');
    assert.equal(settings.get('min.insync.replicas'), '2');
    assert.equal(settings.get('unclean.leader.election.enable'), 'false');
    assert.equal(settings.get('offsets.topic.replication.factor'), '3');
    assert.equal(settings.get('transaction.state.log.min.isr'), '2');
    assert.equal(settings.get('auto.create.topics.enable'), 'false');
  });

  it('falls back to one replica for a single node', () => {
    const settings = parse(brokerProperties(node(1), [node(1)]));
    assert.equal(settings.get('default.replication.factor'), '1');
    assert.equal(settings.get('min.insync.replicas'), '1');
    assert.equal(settings.get('controller.quorum.voters'), '1@127.0.0.1:19093');
  });

  it("listens on, advertises and lists as voters each node's own address", () => {
    const nodes = [node(1, '10.213.0.11'), node(2, '10.213.0.12'), node(3, '10.213.0.13')];
    const settings = parse(brokerProperties(nodes[2]!, nodes));
    assert.equal(settings.get('listeners'), 'PLAINTEXT://10.213.0.13:19096,CONTROLLER://10.213.0.13:19097');
    assert.equal(settings.get('advertised.listeners'), 'PLAINTEXT://10.213.0.13:19096');
    assert.equal(
      settings.get('controller.quorum.voters'),
      '1@10.213.0.11:19093,2@10.213.0.12:19095,3@10.213.0.13:19097',
    );
  });

  describe('with TLS listeners', () => {
    const tls = { keyStoreFile: '/c/broker.pem', trustStoreFile: '/c/ca.pem', username: 'herald', password: 'pw' };

    it('adds SASL_SSL and SSL listeners beside the plaintext ones, advertised to clients', () => {
      const one = { ...node(1), saslSslPort: 19200, sslPort: 19201 };
      const settings = parse(brokerProperties(one, [one], tls));
      assert.equal(
        settings.get('listeners'),
        'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093,SASL_SSL://127.0.0.1:19200,SSL://127.0.0.1:19201',
      );
      assert.equal(
        settings.get('advertised.listeners'),
        'PLAINTEXT://127.0.0.1:19092,SASL_SSL://127.0.0.1:19200,SSL://127.0.0.1:19201',
      );
      assert.equal(
        settings.get('listener.security.protocol.map'),
        'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL',
      );
      assert.equal(settings.get('inter.broker.listener.name'), 'PLAINTEXT');
      assert.equal(settings.get('ssl.keystore.type'), 'PEM');
      assert.equal(settings.get('ssl.keystore.location'), '/c/broker.pem');
      assert.equal(settings.get('ssl.truststore.location'), '/c/ca.pem');
    });

    it('requires client certificates on the SSL listener only, and offers SCRAM and PLAIN on SASL_SSL', () => {
      const one = { ...node(1), saslSslPort: 19200, sslPort: 19201 };
      const settings = parse(brokerProperties(one, [one], tls));
      assert.equal(settings.get('listener.name.ssl.ssl.client.auth'), 'required');
      assert.equal(settings.get('ssl.client.auth'), undefined);
      assert.equal(settings.get('listener.name.sasl_ssl.sasl.enabled.mechanisms'), 'SCRAM-SHA-512,SCRAM-SHA-256,PLAIN');
      assert.match(
        settings.get('listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config')!,
        /ScramLoginModule required;$/,
      );
      assert.equal(
        settings.get('listener.name.sasl_ssl.plain.sasl.jaas.config'),
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_herald="pw";',
      );
    });

    it('has only the listeners asked for', () => {
      const one = { ...node(1), sslPort: 19201 };
      const settings = parse(brokerProperties(one, [one], tls));
      assert.equal(settings.get('advertised.listeners'), 'PLAINTEXT://127.0.0.1:19092,SSL://127.0.0.1:19201');
      assert.equal(settings.get('listener.name.sasl_ssl.sasl.enabled.mechanisms'), undefined);
    });

    it('refuses a TLS listener without certificates', () => {
      const one = { ...node(1), saslSslPort: 19200 };
      assert.throws(() => brokerProperties(one, [one]), /no certificates/);
    });
  });
});
