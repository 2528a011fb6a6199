import { createReadStream, existsSync, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import {
  Position,
  type RedriveDeadLettersResponse,
  type TailRequest,
  type TailResponse,
  durationToMillis,
} from '@herald/api';
import { positionOrTime } from '@herald/client';
import type { Logger } from '@herald/logging';
import type { HeraldGateway } from './herald-gateway';
import { parsePageQuery } from './paging';
import type { RegistryIndex } from './registry-index';
import { RequestError, errorResponse } from './request-error';
import { type Sessions, sessionCookie } from './sessions';
import type { PublishRates } from './publish-rates';
import type { StatsSampler } from './stats-sampler';
import {
  asObject,
  integerParam,
  parseStartAt,
  parseSubscriptionChanges,
  parseSubscriptionSpec,
  parseTailFrom,
  parseTestMessage,
  parseBindingChange,
  parseTopicSpec,
} from './validation';
import { messageView, subscriptionView, topicView } from './views';

export interface ConsoleServerOptions {
  /** The console's own clients: used for everything when sign-in is off. */
  gateway: HeraldGateway;
  /** Present when operators sign in: their calls then go with their own tokens. */
  sessions?: Sessions | undefined;
  index: RegistryIndex;
  sampler: StatsSampler;
  /** Publish rates by topic, when the publishers' metrics are read. */
  rates?: PublishRates | undefined;
  /** The built page (index.html and assets/). */
  webDir: string;
  log: Logger;
}

type Params = Record<string, string>;
type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  params: Params,
  url: URL,
  /** Clients carrying the signed-in operator's token, or the console's own when sign-in is off. */
  gateway: HeraldGateway,
  /**
   * The registry as the operator may see it: with sign-in, an index fed by a Watch with the operator's
   * token, which the registry filters item by item; without, the console's own.
   */
  view: RegistryIndex,
) => Promise<unknown>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

/** What answers without a session: signing in, and the probes. */
const openPaths = new Set(['/api/session', '/healthz', '/livez']);

/** How long an action waits for the registry's watch to show its result before answering anyway. */
const settleMillis = 3_000;
const maxBodyBytes = 11 * 1024 * 1024;

/**
 * The console's HTTP side: a JSON API over Herald's gRPC API, a server-sent-events tail, and the
 * built page. Every action is one call to a Herald service, which makes its own checks.
 */
export function createConsoleServer(options: ConsoleServerOptions): Server {
  const { gateway, index, sampler, log, sessions, rates } = options;
  const rateOf = (topic: string) => rates?.rateOf(topic) ?? null;
  const routes: Route[] = [];
  const route = (method: string, pathPattern: string, handler: Handler) => {
    const names: string[] = [];
    const source = pathPattern.replace(/:(\w+)/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
  };

  const listReady = async (view: RegistryIndex) => {
    if (!(await view.waitReady(5_000))) {
      throw Object.assign(new Error(`the registry's topics are not loaded yet (${view.lastError ?? 'connecting'})`), {
        code: status.UNAVAILABLE,
      });
    }
  };
  /** Waits until the watch no longer (or now) holds a name: lists shown after an action then show it. */
  const settle = async (holds: () => boolean) => {
    const deadline = Date.now() + settleMillis;
    while (!holds() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  };

  route('GET', '/api/session', async (req) => ({
    signIn: sessions !== undefined,
    signedIn: sessions === undefined || sessions.tokenOf(req) !== undefined,
  }));

  // Signing in checks the token with the registry (an answer means the services accept it), then keeps it
  // server-side behind a session cookie.
  route('POST', '/api/session', async (req, res) => {
    if (!sessions) throw new RequestError('session', 'this console has no sign-in (CONSOLE_SIGN_IN is off)', 404);
    const body = asObject(await readJson(req));
    const token = typeof body.token === 'string' ? body.token.trim().replace(/^Bearer\s+/i, '') : '';
    if (token === '') throw new RequestError('token', 'is required');
    // TestIamPermissions is open to every authenticated caller, so it tells a token the services accept
    // from one they refuse, whatever the operator may see (a role on one topic is enough to sign in).
    await sessions.gatewayFor(token).admin.testIamPermissions('herald', ['topics.get']);
    res.setHeader(
      'set-cookie',
      `${sessionCookie}=${sessions.create(token)}; HttpOnly; SameSite=Strict; Path=/${req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : ''}`,
    );
    return { signedIn: true };
  });

  route('DELETE', '/api/session', async (req, res) => {
    sessions?.end(req);
    res.setHeader('set-cookie', `${sessionCookie}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return { signedIn: false };
  });

  // Liveness: the process answers HTTP, whatever the registry does.
  route('GET', '/livez', async () => ({ alive: true }));

  // Readiness: the lists need the registry's topics loaded; the page itself is served regardless.
  route('GET', '/healthz', async (_req, res) => {
    sendJson(res, index.ready ? 200 : 503, { ready: index.ready, error: index.lastError ?? null });
    return undefined;
  });

  route('GET', '/api/status', async (_req, _res, _params, _url, _gw, view) => ({
    registry: {
      ready: view.ready,
      error: view.lastError ?? null,
      revision: view.revision.toString(),
      topics: view.topicCount,
      subscriptions: view.subscriptionCount,
    },
    endpoints: gateway.endpoints,
  }));

  route('GET', '/api/topics', async (_req, _res, _params, url, _gw, view) => {
    const query = parsePageQuery(url.searchParams);
    await listReady(view);
    const page = view.listTopics(query);
    return {
      topics: page.items.map((row) => ({
        ...topicView(row.topic, row.subscriptions),
        publishRate: rateOf(row.topic.name),
      })),
      publishRates: rates?.enabled ? (rates.lastError ?? 'measured') : 'off',
      nextPageToken: page.nextPageToken,
      totalMatching: page.totalMatching,
    };
  });

  route('POST', '/api/topics', async (req, _res, _params, _url, gw, view) => {
    const topic = await gw.admin.createTopic(parseTopicSpec(await readJson(req)));
    await view.waitForRevision(topic.revision, settleMillis);
    return { topic: topicView(topic, 0) };
  });

  route('GET', '/api/topics/:name', async (_req, _res, { name }, _url, gw, view) => {
    const topic = await gw.admin.getTopic(name!);
    // A session's view starts with its first request: its count is only right once it holds a snapshot.
    await view.waitReady(settleMillis);
    return { topic: { ...topicView(topic, view.subscriptionsOf(name!)), publishRate: rateOf(name!) } };
  });

  route('DELETE', '/api/topics/:name', async (_req, _res, { name }, _url, gw, view) => {
    await gw.admin.deleteTopic(name!);
    await settle(() => !view.hasTopic(name!));
    return { deleted: name };
  });

  route('POST', '/api/topics/:name/publish', async (req, _res, { name }, _url, gw) => {
    const message = parseTestMessage(await readJson(req));
    const messageId = await gw.publisher.publish(name!, message);
    return { messageId };
  });

  route('GET', '/api/topics/:name/messages', async (_req, res, { name }, url, gw) =>
    browse(gw, res, {
      topic: name!,
      start: positionOrTime(parseTailFrom(url.searchParams.get('from') ?? 'earliest')),
      filter: url.searchParams.get('filter') ?? '',
      limit: integerParam(url.searchParams, 'limit', 1, 500, 50),
    }),
  );

  route('GET', '/api/topics/:name/tail', async (_req, res, { name }, url, gw) => {
    const request: TailRequest = {
      topic: name!,
      start: positionOrTime(parseTailFrom(url.searchParams.get('from'))),
      filter: url.searchParams.get('filter') ?? '',
    };
    streamTail(gw, request, res, log);
    return undefined;
  });

  route('GET', '/api/subscriptions', async (_req, _res, _params, url, gw, view) => {
    const query = parsePageQuery(url.searchParams, 'topic');
    await listReady(view);
    const page = view.listSubscriptions(query);
    // The figures of the page shown, in one call; the list still answers when the dispatchers do not.
    let stats: Record<string, { backlog: number; oldestUnackedAgeMillis: number | null; openStreams: number }> = {};
    let statsError: string | null = null;
    try {
      const read = await gw.subscriptionStats(page.items.map((s) => s.name));
      stats = Object.fromEntries(
        read.map((s) => [
          s.subscription,
          {
            backlog: Number(s.numUndeliveredMessages),
            oldestUnackedAgeMillis: durationToMillis(s.oldestUnackedMessageAge) ?? null,
            openStreams: s.openStreams,
          },
        ]),
      );
    } catch (error) {
      statsError = errorResponse(error).body.error.message;
    }
    return {
      subscriptions: page.items.map((s) => ({ ...subscriptionView(s), stats: stats[s.name] ?? null })),
      nextPageToken: page.nextPageToken,
      totalMatching: page.totalMatching,
      statsError,
    };
  });

  route('POST', '/api/subscriptions', async (req, _res, _params, _url, gw, view) => {
    const subscription = await gw.admin.createSubscription(parseSubscriptionSpec(await readJson(req)));
    await view.waitForRevision(subscription.revision, settleMillis);
    return { subscription: subscriptionView(subscription) };
  });

  route('GET', '/api/subscriptions/:name', async (_req, _res, { name }, _url, gw) => ({
    subscription: subscriptionView(await gw.admin.getSubscription(name!)),
  }));

  route('PATCH', '/api/subscriptions/:name', async (req, _res, { name }, _url, gw, view) => {
    const subscription = await gw.admin.updateSubscription(name!, parseSubscriptionChanges(await readJson(req)));
    await view.waitForRevision(subscription.revision, settleMillis);
    return { subscription: subscriptionView(subscription) };
  });

  route('DELETE', '/api/subscriptions/:name', async (_req, _res, { name }, _url, gw, view) => {
    await gw.admin.deleteSubscription(name!);
    await settle(() => !view.hasSubscription(name!));
    return { deleted: name };
  });

  // IAM policies, read and changed with the operator's token: the registry decides who may.
  route('GET', '/api/iam', async (_req, _res, _params, url, gw) => {
    const resource = url.searchParams.get('resource') ?? '';
    const { policy, staticBindings } = await gw.admin.getIamPolicy(resource);
    return { resource, bindings: policy.bindings, etag: policy.etag, staticBindings };
  });

  route('POST', '/api/iam/:verb', async (req, _res, { verb }, _url, gw) => {
    if (verb !== 'grant' && verb !== 'revoke') throw new RequestError('verb', 'must be grant or revoke', 404);
    const { resource, role, member } = parseBindingChange(await readJson(req));
    // Read, change, write with the etag: an edit made meanwhile by someone else is read again, not lost.
    const policy =
      verb === 'grant'
        ? await gw.admin.grantRole(resource, role, [member])
        : await gw.admin.revokeRole(resource, role, [member]);
    return { resource, bindings: policy.bindings, etag: policy.etag };
  });

  route('POST', '/api/subscriptions/:name/seek', async (req, _res, { name }, _url, gw) => {
    const body = asObject(await readJson(req));
    const subscription = await gw.admin.seek(name!, parseStartAt(body.to, 'to'));
    return { subscription: subscriptionView(subscription) };
  });

  route('GET', '/api/subscriptions/:name/stats', async (_req, _res, { name }, _url, gw) => {
    // The history is sampled with the console's identity; a signed-in operator sees it only when the
    // services let that operator read the subscription's figures (asked now, with their token).
    if (sessions) await gw.subscriptionStats([name!]);
    return sampler.history(name!);
  });

  route('GET', '/api/subscriptions/:name/dead-letters', async (_req, _res, { name }, url, gw) => {
    const response = await gw.peekDeadLetters({
      selection: {
        subscription: name!,
        deadLetterTopic: '',
        filter: url.searchParams.get('filter') ?? '',
        startTime: undefined,
        endTime: undefined,
      },
      maxMessages: integerParam(url.searchParams, 'pageSize', 1, 1_000, 50),
      pageToken: url.searchParams.get('pageToken') ?? '',
    });
    return { messages: response.messages.map(messageView), nextPageToken: response.nextPageToken };
  });

  route('POST', '/api/subscriptions/:name/dead-letters/redrive', async (req, res, { name }, _url, gw) => {
    const body = asObject(await readJson(req));
    const filter = body.filter ?? '';
    if (typeof filter !== 'string') throw new RequestError('filter', 'must be a string');
    return redrive(gw, res, {
      selection: { subscription: name!, deadLetterTopic: '', filter, startTime: undefined, endTime: undefined },
      maxMessagesPerSecond: 0,
    });
  });

  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://console');
    if (!url.pathname.startsWith('/api/') && url.pathname !== '/healthz' && url.pathname !== '/livez') {
      serveStatic(options.webDir, url.pathname, req, res);
      return;
    }
    const method = req.method ?? 'GET';
    let matched: { route: Route; params: Params } | undefined;
    let pathMatched = false;
    for (const candidate of routes) {
      const match = candidate.pattern.exec(url.pathname);
      if (!match) continue;
      pathMatched = true;
      if (candidate.method !== method) continue;
      const params: Params = {};
      candidate.names.forEach((name, i) => (params[name] = safeDecode(match[i + 1]!)));
      matched = { route: candidate, params };
      break;
    }
    if (!matched) {
      sendJson(res, pathMatched ? 405 : 404, {
        error: { code: pathMatched ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', message: `${method} ${url.pathname}` },
      });
      return;
    }
    const started = Date.now();
    void (async () => {
      try {
        if (method !== 'GET') checkSameOrigin(req);
        let gw = gateway;
        let view = index;
        if (sessions && !openPaths.has(url.pathname)) {
          const token = sessions.tokenOf(req);
          if (token === undefined) throw new RequestError('session', 'sign in with your token first', 401);
          gw = sessions.gatewayFor(token);
          view = sessions.viewFor(token, log);
        }
        const body = await matched.route.handler(req, res, matched.params, url, gw, view);
        if (body !== undefined) sendJson(res, 200, body);
      } catch (error) {
        const { httpStatus, body } = errorResponse(error);
        if (httpStatus >= 500) log.warn({ method, path: url.pathname, err: body.error }, 'request failed');
        if (!res.headersSent) sendJson(res, httpStatus, body);
        else res.end();
      } finally {
        log.debug({ method, path: url.pathname, status: res.statusCode, millis: Date.now() - started }, 'request');
      }
    })();
  });
}

/**
 * Actions come from the console's own page: a browser sends Origin with every cross-site POST, PATCH
 * or DELETE, and one naming another host is refused, so that no other site can act through an
 * operator's browser. Requests without Origin (curl, scripts) are not a browser's and pass.
 */
function checkSameOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== req.headers.host) throw new RequestError('Origin', `${origin} may not act on this console`, 403);
}

function sendJson(res: ServerResponse, httpStatus: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(httpStatus, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new RequestError('content-type', 'must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new RequestError('body', `is over ${maxBodyBytes} bytes`, 413);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RequestError('body', `is not JSON (${(error as Error).message})`);
  }
}

/**
 * A live tail as server-sent events: `ready` once the Tail rpc is started, one `messages` event per
 * batch, and `herald-error` (the gRPC status) when the rpc fails, after which the stream ends and the
 * page does not reconnect by itself. A browser that reads slowly pauses the rpc, which then holds
 * the dispatcher's reading back too.
 */
function streamTail(gateway: HeraldGateway, request: TailRequest, res: ServerResponse, log: Logger): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let ended = false;
  const send = (event: string, data: unknown) =>
    ended || res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const call = gateway.tail(request);
  const from =
    request.start?.$case === 'time'
      ? request.start.value.toISOString()
      : request.start?.value === Position.POSITION_EARLIEST
        ? 'earliest'
        : 'latest';
  send('ready', { topic: request.topic, from });
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    call.cancel();
    res.end();
  };
  call.on('data', (batch: TailResponse) => {
    if (!send('messages', batch.messages.map(messageView))) {
      call.pause();
      res.once('drain', () => call.resume());
    }
  });
  call.on('error', (error: { code?: number }) => {
    if (error.code !== status.CANCELLED) {
      const { body } = errorResponse(error);
      log.info({ topic: request.topic, err: body.error }, 'tail ended by an error');
      send('herald-error', body.error);
    }
    end();
  });
  call.on('end', end);
  // The response closes when the page goes away (or the stream ends): the Tail rpc goes with it.
  res.on('close', end);
}

/**
 * Messages of a topic from a position, without a subscription: a Tail read until `limit` messages,
 * or until the topic has had nothing more for a moment (Tail never ends by itself at the end of a topic).
 */
async function browse(
  gateway: HeraldGateway,
  res: ServerResponse,
  options: { topic: string; start: TailRequest['start']; filter: string; limit: number },
) {
  const call = gateway.tail({ topic: options.topic, start: options.start, filter: options.filter });
  const messages: ReturnType<typeof messageView>[] = [];
  return new Promise<{ messages: typeof messages; complete: boolean }>((resolve, reject) => {
    let idle: NodeJS.Timeout | undefined;
    const finish = (complete: boolean) => {
      clearTimeout(idle);
      clearTimeout(overall);
      call.cancel();
      resolve({ messages, complete });
    };
    const quiet = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(true), messages.length === 0 ? 3_000 : 1_500);
    };
    const overall = setTimeout(() => finish(false), 15_000);
    quiet();
    call.on('data', (batch: TailResponse) => {
      for (const message of batch.messages) {
        if (messages.length < options.limit) messages.push(messageView(message));
      }
      if (messages.length >= options.limit) finish(false);
      else quiet();
    });
    call.on('error', (error: { code?: number }) => {
      clearTimeout(idle);
      clearTimeout(overall);
      if (error.code !== status.CANCELLED) reject(error);
    });
    res.on('close', () => call.cancel());
  });
}

/** Runs a redrive to its end and answers its last progress; a page that goes away cancels it (safe to call again). */
function redrive(
  gateway: HeraldGateway,
  res: ServerResponse,
  request: Parameters<HeraldGateway['redrive']>[0],
): Promise<RedriveDeadLettersResponse> {
  const call = gateway.redrive(request);
  let last: RedriveDeadLettersResponse | undefined;
  return new Promise((resolve, reject) => {
    call.on('data', (progress: RedriveDeadLettersResponse) => (last = progress));
    call.on('error', (error) => reject(error));
    call.on('end', () =>
      last ? resolve(last) : reject(new Error('the redrive ended without reporting any progress')),
    );
    // A page gone before the end cancels the rpc; an interrupted redrive is completed by the next call.
    res.on('close', () => {
      if (!res.writableFinished) call.cancel();
    });
  });
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/**
 * The page and its assets, from the build. The content security policy lets the page load and
 * connect to nothing but this server: no font, script or request leaves for the internet.
 */
function serveStatic(webDir: string, pathname: string, req: IncomingMessage, res: ServerResponse): void {
  const relative = path.normalize(safeDecode(pathname)).replace(/^(\.\.[/\\])+/, '');
  let file = path.join(webDir, relative);
  if (!file.startsWith(webDir) || !existsSync(file) || statSync(file).isDirectory()) {
    file = path.join(webDir, 'index.html');
  }
  if (!existsSync(file)) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`the console's page is not built (no ${file}); run make build`);
    return;
  }
  const hashed = file.includes(`${path.sep}assets${path.sep}`);
  res.writeHead(200, {
    'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'content-security-policy':
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}

/** A URL path part decoded; a malformed escape is kept as it is (and then names nothing). */
function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
