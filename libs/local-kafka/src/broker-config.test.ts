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
});
