import { createConnection, createServer } from 'node:net';

/** A port `make run` is about to use, and the variable that sets it (named in the error). */
export interface PlannedPort {
  port: number;
  host: string;
  variable: string;
}

/** Resolves true when nothing else can bind `host:port` now (another process listens there, typically). */
export function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * One line for each planned port that is taken, naming the variable that
 * moves it; empty when every one is free. Checked before Kafka starts, so
 * that a port in use fails in a moment rather than after Kafka's start-up.
 */
export async function portsInUse(ports: readonly PlannedPort[]): Promise<string[]> {
  const problems: string[] = [];
  for (const { port, host, variable } of ports) {
    if (!(await canBind(port, host))) {
      problems.push(
        `port ${port} (${variable}) is already in use on ${host}: stop what listens there, or set ${variable}`,
      );
    }
  }
  return problems;
}

/** Whether something accepts a TCP connection at `host:port` within the time. */
export function acceptsConnection(address: string, timeoutMillis: number): Promise<boolean> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMillis, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Checks `KAFKA_BROKERS` before any service starts: a well-formed list of
 * which at least one broker accepts connections. Resolves with the problem
 * in one line, or undefined. (A service would find out too, but only after
 * its own retries, 10 s or more, and in a log.)
 */
export async function kafkaBrokersProblem(text: string, timeoutMillis = 3_000): Promise<string | undefined> {
  const brokers = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const malformed = brokers.filter((broker) => !/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/.test(broker));
  if (brokers.length === 0 || malformed.length > 0) {
    return `KAFKA_BROKERS="${text}" is not a host:port[,host:port...] list`;
  }
  const answers = await Promise.all(brokers.map((broker) => acceptsConnection(broker, timeoutMillis)));
  if (!answers.some(Boolean)) {
    return `no Kafka broker accepts connections at ${brokers.join(',')} (KAFKA_BROKERS): start it, or unset KAFKA_BROKERS to get a local one`;
  }
  return undefined;
}
