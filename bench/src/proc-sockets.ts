import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** One row of /proc/<pid>/net/tcp or tcp6. */
export interface TcpEntry {
  /** The local address as the kernel prints it (hex, in its byte order). */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The kernel's state code: `01` established, `0A` listening... */
  state: string;
  /** The socket's inode, as /proc/<pid>/fd links name it (`socket:[inode]`). */
  inode: number;
}

export const tcpEstablished = '01';
export const tcpListen = '0A';

/**
 * Parses /proc/net/tcp or /proc/net/tcp6: a header line, then one socket a
 * line, `sl local_address rem_address st ... uid timeout inode ...` with
 * addresses as `HEXADDR:HEXPORT`. Lines that do not have that shape are left out.
 */
export function parseTcpTable(text: string): TcpEntry[] {
  const entries: TcpEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || !/^\d+:$/.test(fields[0]!)) continue;
    const local = splitAddress(fields[1]!);
    const remote = splitAddress(fields[2]!);
    const inode = Number(fields[9]);
    if (!local || !remote || !/^[0-9A-Fa-f]{2}$/.test(fields[3]!) || !Number.isInteger(inode)) continue;
    entries.push({
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: fields[3]!.toUpperCase(),
      inode,
    });
  }
  return entries;
}

function splitAddress(field: string): { address: string; port: number } | undefined {
  const match = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{4})$/.exec(field);
  return match ? { address: match[1]!, port: parseInt(match[2]!, 16) } : undefined;
}

/** The inode of a socket from the target of a /proc/<pid>/fd link (`socket:[12345]`); undefined for other files. */
export function socketInode(linkTarget: string): number | undefined {
  const match = /^socket:\[(\d+)\]$/.exec(linkTarget);
  return match ? Number(match[1]) : undefined;
}

/** How many of `entries` are established, belong to `inodes`, and have their remote end on one of `remotePorts`. */
export function countEstablishedTo(
  entries: readonly TcpEntry[],
  inodes: ReadonlySet<number>,
  remotePorts: ReadonlySet<number>,
): number {
  let count = 0;
  for (const entry of entries) {
    if (entry.state === tcpEstablished && remotePorts.has(entry.remotePort) && inodes.has(entry.inode)) count++;
  }
  return count;
}

/** The ports of `host:port` broker addresses (`[::1]:9092` too). */
export function brokerPorts(brokers: readonly string[]): Set<number> {
  const ports = new Set<number>();
  for (const broker of brokers) {
    const port = Number(/:(\d+)$/.exec(broker.trim())?.[1]);
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return ports;
}

/** The inodes of every socket a process has open. Throws when the process is gone. */
export function socketInodesOf(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = socketInode(target);
    if (inode !== undefined) inodes.add(inode);
  }
  return inodes;
}

/** Every TCP socket (v4 and v6) of the network namespace `pid` lives in. */
export function tcpTableOf(pid: number | 'self'): TcpEntry[] {
  return ['tcp', 'tcp6'].flatMap((table) => {
    try {
      return parseTcpTable(readFileSync(`/proc/${pid}/net/${table}`, 'utf8'));
    } catch {
      return []; // no IPv6 in this kernel
    }
  });
}

/**
 * Established TCP connections of process `pid` to any of `remotePorts`:
 * its sockets (/proc/<pid>/fd) matched by inode against its namespace's
 * TCP table. Throws when the process is gone.
 */
export function connectionsTo(pid: number, remotePorts: ReadonlySet<number>): number {
  const inodes = socketInodesOf(pid);
  return countEstablishedTo(tcpTableOf(pid), inodes, remotePorts);
}

/**
 * The processes listening on a TCP port of this machine's namespace (most
 * often one): finds the listening socket's inode, then the processes that
 * hold it. Processes whose fds cannot be read are passed over.
 */
export function listeningPids(port: number): number[] {
  const inodes = new Set(
    tcpTableOf('self')
      .filter((entry) => entry.state === tcpListen && entry.localPort === port)
      .map((entry) => entry.inode),
  );
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const held = socketInodesOf(Number(name));
      if ([...inodes].some((inode) => held.has(inode))) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}
