import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';

/**
 * Asks one broker for its API versions over a fresh connection, the cheapest
 * request Kafka answers (before any authentication), and resolves when the
 * answer arrives. Rejects on a refused or dropped connection and after
 * `timeoutMillis` (a frozen broker accepts connections but answers nothing).
 *
 * It runs on the event loop's sockets: no client library, no libuv pool
 * thread held while a broker does not answer. With `tlsOptions` it speaks
 * TLS first, as the clients do (a TLS listener drops a plaintext request),
 * and fails when the broker's certificate does not verify.
 */
export function probeBroker(address: string, timeoutMillis: number, tlsOptions?: ConnectionOptions): Promise<void> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  return new Promise<void>((resolve, reject) => {
    const socket = tlsOptions
      ? tls.connect({ ...tlsOptions, host, port, ...(net.isIP(host) ? {} : { servername: host }) })
      : net.connect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new Error(`${address}: no answer within ${timeoutMillis} ms`)),
      timeoutMillis,
    );
    socket.on(tlsOptions ? 'secureConnect' : 'connect', () => socket.write(apiVersionsRequest));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // Size, then the correlation id of our request: the broker read it and answered.
      if (received.length >= 8 && received.readInt32BE(4) === correlationId) finish();
    });
    socket.on('error', (error) => finish(new Error(`${address}: ${error.message}`)));
    socket.on('close', () => finish(new Error(`${address}: connection closed without an answer`)));
  });
}

/** Resolves once any of `addresses` answers; rejects with the first broker's reason when none does. */
export async function probeAnyBroker(
  addresses: string[],
  timeoutMillis: number,
  tlsOptions?: ConnectionOptions,
): Promise<void> {
  try {
    await Promise.any(addresses.map((address) => probeBroker(address, timeoutMillis, tlsOptions)));
  } catch (error) {
    const reasons = (error as AggregateError).errors as Error[];
    throw new Error(reasons.map((reason) => reason.message).join('; '));
  }
}

const correlationId = 0x4865_7261; // "Hera"
const clientId = Buffer.from('herald-connectivity-probe');

/** ApiVersions v0 (api key 18): request header v1 (key, version, correlation id, client id) and an empty body. */
const apiVersionsRequest = (() => {
  const header = Buffer.alloc(2 + 2 + 4 + 2);
  header.writeInt16BE(18, 0);
  header.writeInt16BE(0, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + clientId.length, 0);
  return Buffer.concat([size, header, clientId]);
})();
