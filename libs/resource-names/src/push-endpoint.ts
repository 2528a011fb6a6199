import { BlockList, isIP } from 'node:net';
import { InvalidArgumentError } from '@herald/errors';

/** Longest endpoint URL, audience or gRPC target a push subscription may name. */
export const pushEndpointMaxLength = 2048;

/** Where a push subscription sends its messages, once parsed. */
export interface PushAddress {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** TLS (https, or a gRPC target without `grpc://`). */
  secure: boolean;
}

/**
 * An HTTP push endpoint: `https://host[:port]/path`, or `http://` when
 * `allowInsecure`. Credentials in the URL are refused: they would travel in
 * every request and show in every listing of the subscription.
 *
 * @throws InvalidArgumentError naming `field`.
 */
export function parseHttpPushEndpoint(field: string, endpoint: string, allowInsecure: boolean): PushAddress {
  if (endpoint.length === 0) throw new InvalidArgumentError(field, 'is required');
  if (endpoint.length > pushEndpointMaxLength) {
    throw new InvalidArgumentError(field, `is ${endpoint.length} characters; the limit is ${pushEndpointMaxLength}`);
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InvalidArgumentError(field, `"${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowInsecure)) {
    throw new InvalidArgumentError(
      field,
      allowInsecure ? 'must be an https:// or http:// URL' : 'must be an https:// URL (http:// is not allowed here)',
    );
  }
  if (url.username || url.password) throw new InvalidArgumentError(field, 'must not carry credentials');
  if (url.hash) throw new InvalidArgumentError(field, 'must not have a fragment');
  const secure = url.protocol === 'https:';
  return { host: unbracket(url.hostname), port: Number(url.port) || (secure ? 443 : 80), secure };
}

/**
 * A gRPC push target: `host:port` (TLS), or `grpc://host:port` (plaintext)
 * when `allowInsecure`.
 *
 * @throws InvalidArgumentError naming `field`.
 */
export function parseGrpcPushTarget(field: string, target: string, allowInsecure: boolean): PushAddress {
  if (target.length === 0) throw new InvalidArgumentError(field, 'is required');
  if (target.length > pushEndpointMaxLength) {
    throw new InvalidArgumentError(field, `is ${target.length} characters; the limit is ${pushEndpointMaxLength}`);
  }
  const plaintext = target.startsWith('grpc://');
  if (plaintext && !allowInsecure) {
    throw new InvalidArgumentError(field, 'grpc:// (plaintext) is not allowed here; give host:port for TLS');
  }
  const hostPort = plaintext ? target.slice('grpc://'.length) : target;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(hostPort);
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65_535) {
    throw new InvalidArgumentError(field, `"${target}" is not host:port or grpc://host:port`);
  }
  return { host: unbracket(match[1]!), port, secure: !plaintext };
}

/**
 * Addresses a push request must not reach unless allowed: loopback,
 * unspecified, link-local, private (RFC 1918, unique local fc00::/7),
 * shared (100.64/10), multicast and reserved. A dispatcher inside a network
 * could otherwise be pointed at that network's own services (SSRF).
 */
const restricted = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  restricted.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  restricted.addSubnet(network, prefix, 'ipv6');
}

/** Whether an IP address is one push must not reach without being allowed to (see above). */
export function isRestrictedAddress(address: string): boolean {
  const ip = unbracket(address);
  const version = isIP(ip);
  if (version === 4) return restricted.check(ip, 'ipv4');
  if (version !== 6) return false;
  // An IPv4-mapped address (::ffff:127.0.0.1) reaches the IPv4 address inside it.
  const mapped = /^::ffff:(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return restricted.check(mapped[1]!, 'ipv4');
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (hexMapped) {
    const high = parseInt(hexMapped[1]!, 16);
    const low = parseInt(hexMapped[2]!, 16);
    return restricted.check(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, 'ipv4');
  }
  return restricted.check(ip, 'ipv6');
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
