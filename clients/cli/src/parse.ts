/**
 * Parsers of option and argument values, for commander: each returns the
 * typed value or throws commander's InvalidArgumentError, which commander
 * reports with the option's name (exit code 2).
 */
import type { StartAt } from '@herald/client';
import { InvalidArgumentError } from 'commander';

/** A whole number of at least `min` (default 1). */
export function parseInteger(value: string, min = 1): number {
  const number = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
  return number;
}

const unitMillis: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds: `500ms`, `30s`, `5m`, `1h30m`, `7d`; a bare
 * number is seconds.
 */
export function parseDuration(value: string): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) {
    throw new InvalidArgumentError('expected a duration such as 500ms, 30s, 5m, 1h30m or 7d');
  }
  let millis = 0;
  for (const [, amount, unit] of text.matchAll(part)) millis += Number(amount) * unitMillis[unit!]!;
  return Math.round(millis);
}

/** `earliest`, `latest`, or a time (ISO 8601, e.g. `2026-05-01T10:00:00Z`). */
export function parseStartAt(value: string): StartAt {
  const text = value.trim();
  if (text === 'earliest' || text === 'latest') return text;
  const millis = /\d/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(millis)) {
    throw new InvalidArgumentError('expected earliest, latest or a time such as 2026-05-01T10:00:00Z');
  }
  return new Date(millis);
}

/** Adds one `key=value` pair to the attributes gathered so far (for a repeatable option). */
export function collectAttribute(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError('expected key=value');
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

/**
 * A time: ISO 8601 (`2026-05-01T10:00:00Z`), or a duration before `now`
 * (`2h` is two hours ago).
 */
export function parseTime(value: string, now = Date.now()): Date {
  const text = value.trim();
  if (/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return new Date(now - parseDuration(text));
  const millis = /^\d{4}-/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(millis)) {
    throw new InvalidArgumentError('expected a time such as 2026-05-01T10:00:00Z, or a duration ago such as 2h');
  }
  return new Date(millis);
}
