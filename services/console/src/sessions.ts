import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '@herald/logging';
import { decodeJwt } from 'jose';
import { type GatewaySecurity, type HeraldEndpoints, HeraldGateway } from './herald-gateway';
import { RegistryIndex } from './registry-index';

export const sessionCookie = 'herald_console_session';

/**
 * Operators signed in with their own bearer tokens. The browser holds only a random session id in an
 * HttpOnly, SameSite=Strict cookie; the token stays on the server. Each token gets its own clients,
 * so every call an operator causes carries that operator's token and the services' checks apply to
 * it: the console never acts with its own identity for them. What the lists show comes from a Watch
 * with the operator's token, which the registry filters to what that operator may see.
 */
export class Sessions {
  private readonly sessions = new Map<string, { token: string; expires: number }>();
  private readonly gateways = new Map<
    string,
    { gateway: HeraldGateway; lastUsed: number; view: RegistryIndex | undefined }
  >();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly endpoints: HeraldEndpoints,
    private readonly security: GatewaySecurity,
    private readonly lifetimeMillis = 12 * 3_600_000,
    private readonly idleGatewayMillis = 30 * 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /**
   * A new session for `token`; returns its id. It ends with the token: a token's lists come from a
   * Watch opened with it, which the registry checked once, at its start, so the console must not keep
   * serving them after the token expired.
   */
  create(token: string): string {
    const id = randomBytes(24).toString('base64url');
    this.sessions.set(id, { token, expires: Math.min(Date.now() + this.lifetimeMillis, tokenExpiry(token)) });
    return id;
  }

  /** The token of the request's session, if it has a live one. */
  tokenOf(request: IncomingMessage): string | undefined {
    const id = sessionIdOf(request);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session || session.expires < Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session.token;
  }

  end(request: IncomingMessage): void {
    const id = sessionIdOf(request);
    if (id !== undefined) this.sessions.delete(id);
  }

  /** Clients that send `token` on every call. */
  gatewayFor(token: string): HeraldGateway {
    let entry = this.gateways.get(token);
    if (!entry) {
      entry = {
        gateway: new HeraldGateway(this.endpoints, { tls: this.security.tls, token }),
        lastUsed: 0,
        view: undefined,
      };
      this.gateways.set(token, entry);
    }
    entry.lastUsed = Date.now();
    return entry.gateway;
  }

  /**
   * The registry as the operator with `token` may see it: topics and subscriptions from a Watch with
   * that token (started on first use, ended with the operator's clients), so lists, counts and
   * searches cover only what the registry lets them see, item by item.
   */
  viewFor(token: string, log: Logger): RegistryIndex {
    this.gatewayFor(token);
    const entry = this.gateways.get(token)!;
    if (!entry.view) {
      entry.view = new RegistryIndex(entry.gateway.watchRegistry(log));
    }
    return entry.view;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.gateways.values()].map((entry) => entry.gateway.close()));
    this.gateways.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, session] of this.sessions) if (session.expires < now) this.sessions.delete(id);
    const live = new Set([...this.sessions.values()].map((session) => session.token));
    for (const [token, entry] of this.gateways) {
      if (!live.has(token) || now - entry.lastUsed > this.idleGatewayMillis) {
        this.gateways.delete(token);
        void entry.gateway.close();
      }
    }
  }
}

function sessionIdOf(request: IncomingMessage): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === sessionCookie) return value.join('=');
  }
  return undefined;
}

/**
 * When a JWT says it expires (its `exp` claim, read without checking the signature: the services check
 * that; this can only end a session sooner). Infinity for a token that is not a JWT or has no `exp`.
 */
export function tokenExpiry(token: string): number {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : Infinity;
  } catch {
    return Infinity;
  }
}
