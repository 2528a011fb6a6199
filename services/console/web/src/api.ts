/** A failure the console's API answered: the gRPC status name from Herald (or the console's own) and its words. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly httpStatus: number,
  ) {
    super(`${code}: ${detail}`);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError('UNREACHABLE', `the console server did not answer (${String(error)})`, 0);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError('BAD_RESPONSE', `${response.status} ${text.slice(0, 200)}`, response.status);
  }
  if (response.status === 401 && !path.startsWith('/api/session')) window.dispatchEvent(new Event('herald-sign-in'));
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(error?.code ?? String(response.status), error?.message ?? text, response.status);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body: unknown) => request<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

export const enc = encodeURIComponent;

/** What the console's API answers (see services/console/src/views.ts). */
export interface TopicView {
  name: string;
  partitions: number;
  replicationFactor: number;
  retentionMillis: number | null;
  createTime: string | null;
  revision: string;
  subscriptions: number;
  /** Messages per second over the last few seconds; null when not measured. */
  publishRate: number | null;
}

export interface SubscriptionView {
  name: string;
  topic: string;
  ackDeadlineSeconds: number;
  retryPolicy: { minimumBackoffMillis: number; maximumBackoffMillis: number } | null;
  deadLetterPolicy: { deadLetterTopic: string; maxDeliveryAttempts: number } | null;
  enableMessageOrdering: boolean;
  enableExactlyOnceDelivery: boolean;
  filter: string;
  start: string;
  startOffsets: { partition: number; offset: string }[];
  lastSeek: { revision: string; time: string | null; offsets: { partition: number; offset: string }[] } | null;
  detached: boolean;
  createTime: string | null;
  revision: string;
  stats?: { backlog: number; oldestUnackedAgeMillis: number | null; openStreams: number } | null;
}

export interface MessageView {
  messageId: string;
  publishTime: string | null;
  attributes: Record<string, string>;
  orderingKey: string;
  deliveryAttempt: number;
  size: number;
  data: string;
  dataEncoding: 'utf8' | 'base64';
}

export interface StatsSample {
  time: number;
  backlog: number;
  oldestUnackedAgeMillis: number | null;
  ackPending: number;
  openStreams: number;
  servedBy: string;
  delivered: number;
  acknowledged: number;
  nacked: number;
  expired: number;
  deadLettered: number;
  filtered: number;
  deduplicated: number;
}

export interface StatsHistory {
  samples: StatsSample[];
  error: string | null;
  intervalMillis: number;
}

export interface Paged {
  nextPageToken: string;
  totalMatching: number;
}
