import assert from 'node:assert/strict';
import net from 'node:net';
import {
  brokerPorts,
  connectionsTo,
  countEstablishedTo,
  listeningPids,
  parseTcpTable,
  socketInode,
  tcpEstablished,
  tcpListen,
} from './proc-sockets';

// Lines as Linux prints them (addresses in the kernel's byte order, ports in hex).
const tcp = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:71A4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 100 0 0 10 0',
  '   1: 0100007F:A2C4 0100007F:71A4 01 00000000:00000000 00:00000000 00000000     0        0 5002 1 0000000000000000 20 4 30 10 -1',
  '   2: 0100007F:A2C6 0100007F:71A4 01 00000000:00000000 00:00000000 00000000     0        0 5003 1 0000000000000000 20 4 30 10 -1',
  '   3: 0100007F:A2C8 0100007F:71A4 06 00000000:00000000 03:00000CB2 00000000     0        0 0 3 0000000000000000',
  '   4: 0100007F:A2CA 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 5004 1 0000000000000000 20 4 30 10 -1',
].join('\n');

const tcp6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0000000000000000FFFF00000100007F:B000 0000000000000000FFFF00000100007F:71A6 01 00000000:00000000 00:00000000 00000000     0        0 6001 1 0000000000000000 20 4 30 10 -1',
].join('\n');

describe('proc-sockets', () => {
  it('parses /proc/net/tcp rows: ports from hex, state, inode; skips the header', () => {
    const entries = parseTcpTable(tcp);
    assert.equal(entries.length, 5);
    assert.deepEqual(entries[0], {
      localAddress: '0100007F',
      localPort: 29092,
      remoteAddress: '00000000',
      remotePort: 0,
      state: tcpListen,
      inode: 5001,
    });
    assert.equal(entries[1]!.remotePort, 29092);
    assert.equal(entries[1]!.state, tcpEstablished);
    assert.equal(entries[4]!.remotePort, 8080);
  });

  it('parses tcp6 rows (IPv4-mapped addresses)', () => {
    const [entry] = parseTcpTable(tcp6);
    assert.equal(entry!.remotePort, 29094);
    assert.equal(entry!.inode, 6001);
  });

  it('skips lines of another shape instead of inventing entries', () => {
    assert.deepEqual(parseTcpTable(''), []);
    assert.deepEqual(parseTcpTable('garbage\n   0: nothing here at all 1 2 3 4 5 6'), []);
  });

  it('reads the inode of a socket fd link, and nothing from other files', () => {
    assert.equal(socketInode('socket:[12345]'), 12345);
    assert.equal(socketInode('pipe:[12345]'), undefined);
    assert.equal(socketInode('/dev/null'), undefined);
    assert.equal(socketInode('anon_inode:[eventfd]'), undefined);
  });

  it('counts only established sockets of the process towards the broker ports', () => {
    const entries = [...parseTcpTable(tcp), ...parseTcpTable(tcp6)];
    const brokers = new Set([29092, 29094]);
    // 5001 listens (not a connection), 5003 is another process's, the TIME_WAIT row has no inode, 5004 is not a broker.
    assert.equal(countEstablishedTo(entries, new Set([5001, 5002, 5004, 6001]), brokers), 2);
    assert.equal(countEstablishedTo(entries, new Set([5002, 5003]), brokers), 2);
    assert.equal(countEstablishedTo(entries, new Set([5002, 5003]), new Set([8080])), 0);
    assert.equal(countEstablishedTo(entries, new Set(), brokers), 0);
  });

  it('takes the ports of broker addresses, IPv6 included', () => {
    assert.deepEqual(
      [...brokerPorts(['127.0.0.1:29092', ' localhost:29094', '[::1]:29096', 'nonsense'])],
      [29092, 29094, 29096],
    );
  });

  it('finds this process listening on a port and counts its connections to it from /proc', async () => {
    const server = net.createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const clients: net.Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const client = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => client.once('connect', resolve));
        clients.push(client);
      }
      assert.deepEqual(listeningPids(port), [process.pid]);
      // Both ends are ours: 3 clients towards the port (the server's ends have it as their local port).
      assert.equal(connectionsTo(process.pid, new Set([port])), 3);
    } finally {
      for (const client of clients) client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
