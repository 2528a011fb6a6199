import assert from 'node:assert/strict';
import {
  formatAttributes,
  messageJson,
  messageLine,
  messagesTable,
  publishedTable,
  viewOfProto,
} from './format-messages';
import { messageProto } from './testing/fake-cli';

describe('formatting messages', () => {
  const message = viewOfProto(
    messageProto('m-1', '{"id":1}', {
      attributes: { region: 'eu', kind: 'order' },
      orderingKey: 'k',
      deliveryAttempt: 2,
    }),
  );

  it('writes attributes as k=v pairs', () =>
    assert.equal(formatAttributes(message.attributes), 'region=eu, kind=order'));

  it('writes one JSON object per message, data as text, empty fields left out', () => {
    assert.deepEqual(messageJson(message, 'text'), {
      messageId: 'm-1',
      publishTime: '2026-05-01T10:00:00.000Z',
      data: '{"id":1}',
      attributes: { region: 'eu', kind: 'order' },
      orderingKey: 'k',
      deliveryAttempt: 2,
    });
    const tailed = viewOfProto(messageProto('m-2', 'x', { deliveryAttempt: 0 }));
    assert.deepEqual(Object.keys(messageJson(tailed, 'text')), ['messageId', 'publishTime', 'data']);
  });

  it('writes binary data as base64 when asked', () => {
    const binary = viewOfProto(messageProto('m-3', '', { data: Buffer.from([0xff, 0x00, 0x10]) }));
    assert.equal(messageJson(binary, 'base64').dataBase64, '/wAQ');
  });

  it('shows pulled messages in a table, numbered', () => {
    const lines = messagesTable([message], 'text').split('\n');
    assert.match(lines[1]!, /# │ MESSAGE ID │ PUBLISHED +│ ATTEMPT │ ATTRIBUTES +│ ORDERING KEY │ DATA/);
    assert.match(lines[3]!, /1 │ m-1 +│ 2026-05-01T10:00:00.000Z │ 2 +│ region=eu, kind=order │ k +│ {"id":1} │/);
  });

  it('shows a tailed message on one line', () => {
    assert.equal(
      messageLine(message, 'text'),
      '2026-05-01T10:00:00.000Z  m-1  key=k  [region=eu, kind=order]  {"id":1}',
    );
  });

  it('lists published ids by input line', () => {
    assert.match(publishedTable([{ line: 3, messageId: 'abc-0' }]), /│ 3 +│ abc-0 +│/);
  });
});
