import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { TestCa, securedServiceEnv } from '@herald/testkit';
import type { Scenario } from '../scenario';
import { type ServiceVariant, meanRate, measureVariants } from './service-variants';

/** Rounds of the variants, in turn. */
const rounds = 2;

/** The benchmark client's identity under mTLS: a URI SAN of its certificate. */
const clientIdentity = 'spiffe://herald.bench/client';

/** Every security variable a variant may set: each variant names them all, so none inherits another's. */
const plaintext: Record<string, string> = {
  HERALD_TLS_CERT: '',
  HERALD_TLS_KEY: '',
  HERALD_TLS_CA: '',
  HERALD_TLS_CLIENT_CA: '',
  HERALD_TLS_CLIENT_AUTH: '',
  HERALD_TLS_CLIENT_CERT: '',
  HERALD_TLS_CLIENT_KEY: '',
  HERALD_AUTH_MTLS: '',
  HERALD_AUTHZ_POLICY_FILE: '',
};

/**
 * The cost of transport security and authorisation on the end-to-end path:
 * the same maximum throughput measurement as `herald-end-to-end`, with every
 * service restarted in turn plaintext, with TLS (server certificates; the
 * services call each other over TLS), and with mTLS and authorisation (client
 * certificates required, callers named by them, every rpc checked against
 * role bindings). Certificates come from a throwaway CA made at run time.
 */
export const securityCost: Scenario = {
  name: 'security-cost',
  baselines: [],
  usesHeraldStack: true,
  description:
    'end-to-end maximum throughput (as herald-end-to-end, at the first message size) with every service restarted ' +
    `plaintext, with TLS, and with mTLS + authorisation (role bindings checked on every rpc), ${rounds} rounds in ` +
    'turn; each row is one measurement, and the notes give the mean ratio of each variant to plaintext. Kafka stays plaintext.',
  async run(context) {
    const ca = new TestCa('Herald bench CA');
    try {
      const server = ca.issue('service', { commonName: 'herald-service', hosts: ['127.0.0.1', 'localhost'] });
      const client = ca.issue('client', { commonName: 'bench', usage: 'client', uri: clientIdentity });
      const policyFile = path.join(ca.dir, 'policy.json');
      // The services name themselves by their certificate's first SAN (localhost).
      writeFileSync(
        policyFile,
        JSON.stringify({ herald: [{ role: 'admin', members: ['mtls:localhost', `mtls:${clientIdentity}`] }] }),
      );
      const tls = {
        ...plaintext,
        HERALD_TLS_CERT: server.certFile,
        HERALD_TLS_KEY: server.keyFile,
        HERALD_TLS_CA: ca.caFile,
      };
      const caPem = readFileSync(ca.caFile);
      const variants: ServiceVariant[] = [
        { name: 'plaintext', env: plaintext },
        { name: 'TLS', env: tls, credentials: credentials.createSsl(caPem) },
        {
          name: 'mTLS + authorisation',
          env: { ...plaintext, ...securedServiceEnv({ ca, server, policyFile }) },
          credentials: credentials.createSsl(caPem, readFileSync(client.keyFile), readFileSync(client.certFile)),
        },
      ];
      const rows = await measureVariants(context, variants, {
        rounds,
        restart: 'every service',
        restore: plaintext,
        pipePrefix: 'sec',
      });
      const base = meanRate(rows, 'plaintext');
      const summary =
        `mean throughput: TLS ${(meanRate(rows, 'TLS') / base).toFixed(3)}× plaintext, ` +
        `mTLS + authorisation ${(meanRate(rows, 'mTLS') / base).toFixed(3)}× plaintext`;
      context.log(`  ${summary}`);
      for (const row of rows) row.notes.push(summary);
      return { kind: 'throughput', rows };
    } finally {
      ca.remove();
    }
  },
};
