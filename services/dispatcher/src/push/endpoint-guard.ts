import { type LookupAddress, lookup } from 'node:dns';
import { isIP } from 'node:net';
import { isRestrictedAddress } from '@herald/resource-names';

/** A push endpoint resolved to an address push may not reach. */
export class PushRefusedError extends Error {
  readonly code = 'EHERALDPUSHREFUSED';

  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      `push endpoint host ${host} resolves to ${address}, a loopback, private or link-local address; ` +
        'refused (DISPATCHER_PUSH_ALLOW_PRIVATE=true allows it)',
    );
    this.name = 'PushRefusedError';
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Resolves push endpoints and refuses restricted addresses (see
 * `isRestrictedAddress`) unless `allowPrivate`. The check runs on the
 * addresses a connection is actually made to (as the `lookup` of every HTTP
 * connection, and before a gRPC channel is made to the resolved address), so a
 * name that resolves to a public address when checked and to a private one
 * when connecting (DNS rebinding) is still refused.
 */
export class EndpointGuard {
  constructor(readonly allowPrivate: boolean) {}

  /** The addresses of `host` push may connect to. @throws PushRefusedError, or the resolver's error. */
  async resolve(host: string): Promise<string[]> {
    if (isIP(host)) {
      this.check(host, host);
      return [host];
    }
    const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
      lookup(host, { all: true }, (error, found) => (error ? reject(error) : resolve(found))),
    );
    for (const { address } of addresses) this.check(host, address);
    return addresses.map(({ address }) => address);
  }

  /**
   * A `lookup` for `http.request`: resolves as the default one does, and fails
   * the connection with PushRefusedError when an address is restricted. Node
   * calls it only for host names; literal addresses are checked by {@link check}.
   */
  readonly lookup = (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      try {
        for (const { address } of addresses) this.check(hostname, address);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };

  /** @throws PushRefusedError when `address` is restricted and that is not allowed. */
  check(host: string, address: string): void {
    if (!this.allowPrivate && isRestrictedAddress(address)) throw new PushRefusedError(host, address);
  }
}
