import assert from 'node:assert/strict';
import {
  describeKafkaSecurity,
  type KafkaSecurity,
  kafkajsSecurityOptions,
  librdkafkaSecurityConfig,
  tlsConnectionOptions,
} from './kafka-security';

/** Stands in for the file system: each file's content is its own name. */
const readFile = (file: string) => Buffer.from(`pem of ${file}`);

const saslSsl: KafkaSecurity = {
  protocol: 'sasl_ssl',
  tls: { caLocation: '/etc/herald/ca.pem' },
  sasl: { mechanism: 'SCRAM-SHA-512', username: 'herald', password: 'hunter2' },
};

const mtls: KafkaSecurity = {
  protocol: 'ssl',
  tls: {
    caLocation: '/tls/ca.pem',
    certificateLocation: '/tls/client.pem',
    keyLocation: '/tls/client.key',
    keyPassword: 'key-pass',
  },
};

describe('Kafka security settings', () => {
  describe('librdkafka', () => {
    it('is plaintext without settings', () => {
      assert.deepEqual(librdkafkaSecurityConfig(), { 'security.protocol': 'plaintext' });
      assert.deepEqual(librdkafkaSecurityConfig({ protocol: 'plaintext' }), { 'security.protocol': 'plaintext' });
    });

    it('maps SASL over TLS', () => {
      assert.deepEqual(librdkafkaSecurityConfig(saslSsl), {
        'security.protocol': 'sasl_ssl',
        'ssl.ca.location': '/etc/herald/ca.pem',
        'sasl.mechanisms': 'SCRAM-SHA-512',
        'sasl.username': 'herald',
        'sasl.password': 'hunter2',
      });
    });

    it('maps a client certificate with an encrypted key', () => {
      assert.deepEqual(librdkafkaSecurityConfig(mtls), {
        'security.protocol': 'ssl',
        'ssl.ca.location': '/tls/ca.pem',
        'ssl.certificate.location': '/tls/client.pem',
        'ssl.key.location': '/tls/client.key',
        'ssl.key.password': 'key-pass',
      });
    });

    it('leaves the CA to the system when none is named', () => {
      assert.deepEqual(
        librdkafkaSecurityConfig({
          protocol: 'sasl_ssl',
          tls: {},
          sasl: { mechanism: 'PLAIN', username: 'KEY', password: 'SECRET' },
        }),
        {
          'security.protocol': 'sasl_ssl',
          'sasl.mechanisms': 'PLAIN',
          'sasl.username': 'KEY',
          'sasl.password': 'SECRET',
        },
      );
    });

    it('ignores TLS settings under a protocol without TLS', () => {
      assert.deepEqual(
        librdkafkaSecurityConfig({
          protocol: 'sasl_plaintext',
          tls: { caLocation: '/x' },
          sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' },
        }),
        {
          'security.protocol': 'sasl_plaintext',
          'sasl.mechanisms': 'SCRAM-SHA-256',
          'sasl.username': 'u',
          'sasl.password': 'p',
        },
      );
    });

    it('refuses a SASL protocol without SASL settings', () => {
      assert.throws(() => librdkafkaSecurityConfig({ protocol: 'sasl_ssl', tls: {} }), /needs SASL settings/);
    });
  });

  describe('kafkajs and the connectivity probe', () => {
    it('have neither TLS nor SASL without settings', () => {
      assert.deepEqual(kafkajsSecurityOptions(undefined, readFile), {});
      assert.equal(tlsConnectionOptions({ protocol: 'sasl_plaintext' }, readFile), undefined);
    });

    it('map SASL over TLS, reading the CA file', () => {
      assert.deepEqual(kafkajsSecurityOptions(saslSsl, readFile), {
        ssl: { ca: Buffer.from('pem of /etc/herald/ca.pem') },
        sasl: { mechanism: 'scram-sha-512', username: 'herald', password: 'hunter2' },
      });
    });

    it('map a client certificate and its passphrase', () => {
      assert.deepEqual(kafkajsSecurityOptions(mtls, readFile), {
        ssl: {
          ca: Buffer.from('pem of /tls/ca.pem'),
          cert: Buffer.from('pem of /tls/client.pem'),
          key: Buffer.from('pem of /tls/client.key'),
          passphrase: 'key-pass',
        },
      });
    });

    it('turn TLS on with the default CAs when no file is named', () => {
      const options = kafkajsSecurityOptions(
        { protocol: 'sasl_ssl', tls: {}, sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' } },
        readFile,
      );
      assert.deepEqual(options.ssl, {}, 'an empty object: kafkajs connects with TLS and Node’s CAs');
      assert.deepEqual(options.sasl, { mechanism: 'plain', username: 'u', password: 'p' });
    });

    it('map SASL without TLS', () => {
      assert.deepEqual(
        kafkajsSecurityOptions(
          { protocol: 'sasl_plaintext', sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' } },
          readFile,
        ),
        { sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } },
      );
    });
  });

  describe('the start-up line', () => {
    it('says plaintext plainly', () => {
      assert.equal(describeKafkaSecurity(), 'plaintext, unauthenticated');
    });

    it('names mechanism, user and files, never the passwords', () => {
      const line = describeKafkaSecurity(saslSsl);
      assert.equal(line, 'sasl_ssl (SCRAM-SHA-512 as "herald", CA /etc/herald/ca.pem)');
      const mtlsLine = describeKafkaSecurity(mtls);
      assert.equal(mtlsLine, 'ssl (CA /tls/ca.pem, client certificate /tls/client.pem)');
      assert.doesNotMatch(line + mtlsLine, /hunter2|key-pass/);
    });
  });
});
