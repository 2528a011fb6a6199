import type { StartAt, SubscriptionChanges, SubscriptionSpec, TopicSpec } from '@herald/client';
import { RequestError } from './request-error';

/**
 * The console checks the shape of what the page sends (types, required fields, what it must pass on);
 * names, ranges and filters are left to the services, whose answers name the field and the limit, so
 * that no rule exists twice and no action skips the services' own checks.
 */
type Body = Record<string, unknown>;

export function asObject(value: unknown, field = 'body'): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError(field, 'must be a JSON object');
  }
  return value as Body;
}

function requiredString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '') throw new RequestError(field, 'is required');
  return value.trim();
}

function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new RequestError(field, 'must be a string');
  return value;
}

function optionalInteger(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new RequestError(field, `must be a whole number from ${min} to ${max}`);
  }
  return number;
}

function optionalBoolean(body: Body, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new RequestError(field, 'must be true or false');
  return value;
}

/** `earliest`, `latest` or an ISO-8601 time. */
export function parseStartAt(value: unknown, field: string): StartAt {
  if (value === 'earliest' || value === 'latest') return value;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const time = new Date(value);
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw new RequestError(field, 'must be "earliest", "latest" or an ISO-8601 time such as 2026-01-31T12:00:00Z');
}

const hourMillis = 3_600_000;

/** POST /api/topics: `name`, optional `partitions` and `retentionHours`. */
export function parseTopicSpec(value: unknown): TopicSpec {
  const body = asObject(value);
  const spec: TopicSpec = { name: requiredString(body, 'name') };
  const partitions = optionalInteger(body, 'partitions', 1, 1_000_000);
  if (partitions !== undefined) spec.partitions = partitions;
  const retentionHours = optionalInteger(body, 'retentionHours', 1, 10_000_000);
  if (retentionHours !== undefined) spec.retentionMillis = retentionHours * hourMillis;
  return spec;
}

function retryPolicy(body: Body): SubscriptionSpec['retryPolicy'] | undefined {
  const minimum = optionalInteger(body, 'minimumBackoffMillis', 0, 86_400_000);
  const maximum = optionalInteger(body, 'maximumBackoffMillis', 0, 86_400_000);
  if (minimum === undefined && maximum === undefined) return undefined;
  if (minimum === undefined || maximum === undefined) {
    throw new RequestError(
      minimum === undefined ? 'minimumBackoffMillis' : 'maximumBackoffMillis',
      'is required with the other backoff',
    );
  }
  return { minimumBackoffMillis: minimum, maximumBackoffMillis: maximum };
}

function deadLetterPolicy(body: Body): SubscriptionSpec['deadLetterPolicy'] | undefined {
  const topic = optionalString(body, 'deadLetterTopic');
  const attempts = optionalInteger(body, 'maxDeliveryAttempts', 0, 1_000_000);
  if (topic === undefined && attempts === undefined) return undefined;
  if (topic === undefined) throw new RequestError('deadLetterTopic', 'is required with maxDeliveryAttempts');
  return { deadLetterTopic: topic, maxDeliveryAttempts: attempts ?? 0 };
}

/** POST /api/subscriptions. */
export function parseSubscriptionSpec(value: unknown): SubscriptionSpec {
  const body = asObject(value);
  const spec: SubscriptionSpec = { name: requiredString(body, 'name'), topic: requiredString(body, 'topic') };
  const ackDeadlineSeconds = optionalInteger(body, 'ackDeadlineSeconds', 0, 1_000_000);
  if (ackDeadlineSeconds !== undefined) spec.ackDeadlineSeconds = ackDeadlineSeconds;
  const filter = optionalString(body, 'filter');
  if (filter !== undefined) spec.filter = filter;
  const ordering = optionalBoolean(body, 'enableMessageOrdering');
  if (ordering !== undefined) spec.enableMessageOrdering = ordering;
  const retry = retryPolicy(body);
  if (retry) spec.retryPolicy = retry;
  const deadLetter = deadLetterPolicy(body);
  if (deadLetter) spec.deadLetterPolicy = deadLetter;
  if (body.startAt !== undefined && body.startAt !== '') spec.startAt = parseStartAt(body.startAt, 'startAt');
  return spec;
}

/**
 * PATCH /api/subscriptions/:name: the fields UpdateSubscription may change. A policy sent as `null`
 * is removed (back to the defaults); a field left out is left as it is.
 */
export function parseSubscriptionChanges(value: unknown): SubscriptionChanges {
  const body = asObject(value);
  const changes: SubscriptionChanges = {};
  const ackDeadlineSeconds = optionalInteger(body, 'ackDeadlineSeconds', 0, 1_000_000);
  if (ackDeadlineSeconds !== undefined) changes.ackDeadlineSeconds = ackDeadlineSeconds;
  if (body.retryPolicy === null) changes.retryPolicy = null;
  else if (body.retryPolicy !== undefined) {
    changes.retryPolicy = retryPolicy(asObject(body.retryPolicy, 'retryPolicy')) ?? null;
  }
  if (body.deadLetterPolicy === null) changes.deadLetterPolicy = null;
  else if (body.deadLetterPolicy !== undefined) {
    changes.deadLetterPolicy = deadLetterPolicy(asObject(body.deadLetterPolicy, 'deadLetterPolicy')) ?? null;
  }
  if (Object.keys(changes).length === 0) {
    throw new RequestError('body', 'names nothing to change (ackDeadlineSeconds, retryPolicy, deadLetterPolicy)');
  }
  return changes;
}

/** A test message from the page. */
export interface TestMessage {
  data: string;
  attributes: Record<string, string>;
  orderingKey?: string;
}

/** POST /api/topics/:name/publish: `data` (text), `attributes` (string to string), optional `orderingKey`. */
export function parseTestMessage(value: unknown): TestMessage {
  const body = asObject(value);
  const data = body.data ?? '';
  if (typeof data !== 'string') throw new RequestError('data', 'must be text');
  const attributes: Record<string, string> = {};
  if (body.attributes !== undefined && body.attributes !== null) {
    for (const [key, attribute] of Object.entries(asObject(body.attributes, 'attributes'))) {
      if (typeof attribute !== 'string') throw new RequestError(`attributes.${key}`, 'must be a string');
      attributes[key] = attribute;
    }
  }
  const message: TestMessage = { data, attributes };
  const orderingKey = optionalString(body, 'orderingKey');
  if (orderingKey !== undefined) message.orderingKey = orderingKey;
  return message;
}

/** Where a tail or a browse starts: `now` (the default: what is published from here on), or a {@link StartAt}. */
export function parseTailFrom(value: string | null): StartAt {
  if (value === null || value === '' || value === 'now') return new Date();
  return parseStartAt(value, 'from');
}

/** A whole number from URL parameters, or the default. */
export function integerParam(params: URLSearchParams, name: string, min: number, max: number, fallback: number) {
  const text = params.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new RequestError(name, `must be a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

/** Who gets or loses which role where, for the console's grant and revoke: checked again by the registry. */
export function parseBindingChange(body: unknown): { resource: string; role: string; member: string } {
  const object = asObject(body);
  const resource = requiredString(object, 'resource');
  if (!/^(herald|topics\/.+|subscriptions\/.+)$/.test(resource)) {
    throw new RequestError('resource', 'must be herald, topics/<name> or subscriptions/<name>');
  }
  return { resource, role: requiredString(object, 'role'), member: requiredString(object, 'member') };
}
