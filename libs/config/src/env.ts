import { accessSync, constants, statSync } from 'node:fs';
import { bool, cleanEnv, makeValidator, port, str, type ValidatorSpec } from 'envalid';

export { bool, port, str };

/** Thrown when environment variables are missing or malformed; lists every bad one at once. */
export class ConfigError extends Error {
  constructor(readonly problems: Record<string, string>) {
    super(
      'invalid configuration: ' +
        Object.entries(problems)
          .map(([name, problem]) => `${name} ${problem}`)
          .join('; '),
    );
    this.name = 'ConfigError';
  }
}

/** A schema: variable name to validator spec (from envalid). */
export type EnvSchema = Record<string, ValidatorSpec<unknown>>;

/** The typed values a schema yields. */
export type EnvOf<S extends EnvSchema> = { readonly [K in keyof S]: S[K] extends ValidatorSpec<infer T> ? T : never };

/**
 * Reads and validates configuration from environment variables, once, at start-up.
 *
 * @throws ConfigError naming every variable that is missing or malformed.
 */
export function readEnv<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv = process.env): EnvOf<S> {
  const problems: Record<string, string> = {};
  const cleaned = cleanEnv(env, schema, {
    reporter: ({ errors }) => {
      for (const [name, error] of Object.entries(errors)) {
        const value = env[name];
        problems[name] =
          value === undefined
            ? 'is required'
            : `has an invalid value ${JSON.stringify(value)}: ${(error as Error).message}`;
      }
    },
  });
  if (Object.keys(problems).length > 0) throw new ConfigError(problems);
  return cleaned as unknown as EnvOf<S>;
}

/** One documented variable, as the README lists it. */
export interface EnvDoc {
  name: string;
  default: string;
  description: string;
}

/** Lists a schema's variables with their defaults and descriptions, for docs. */
export function describeEnv(schema: EnvSchema): EnvDoc[] {
  return Object.entries(schema).map(([name, spec]) => ({
    name,
    default: spec.default === undefined ? '(required)' : formatDefault(spec.default),
    description: spec.desc ?? '',
  }));
}

function formatDefault(value: unknown): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** A whole number between `min` and `max`, inclusive. */
export function int(min: number, max: number) {
  return makeValidator<number>((input) => {
    if (!/^-?\d+$/.test(input.trim())) throw new Error('must be a whole number');
    const value = Number(input);
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}`);
    return value;
  });
}

/** A comma-separated list of non-empty strings. */
export const list = makeValidator<string[]>((input) => {
  const items = input
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (items.length === 0) throw new Error('must list at least one value');
  return items;
});

/** A comma-separated list of `host:port` addresses. */
export const hostPorts = makeValidator<string[]>((input) => {
  const items = list({})._parse(input);
  for (const item of items) {
    const match = /^(.+):(\d{1,5})$/.exec(item);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new Error(`"${item}" is not host:port`);
    }
  }
  return items;
});

/** Why a file named by a variable (a PEM file, a secret) cannot be used, or undefined when it can be read. */
export function unreadableFile(file: string): string | undefined {
  try {
    accessSync(file, constants.R_OK);
    return statSync(file).isFile() ? undefined : 'is not a file (a PEM file is expected)';
  } catch (error) {
    return `cannot be read: ${(error as Error).message}`;
  }
}
