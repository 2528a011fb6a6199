import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';

/** librdkafka's errors may come as plain objects with a message and a code; the scenarios expect Errors. */
export function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  const { message, code } = error as Partial<LibrdKafkaError>;
  return new Error(`librdkafka: ${message ?? String(error)}${code === undefined ? '' : ` (code ${code})`}`);
}
