import * as net from 'node:net';
import { listeningInodes, pidListensOn } from './sockets';

// Captured from /proc/net/tcp: a listener on 127.0.0.1:5432 (0x1538), one on 0.0.0.0:6379
// (0x18EB), and an established connection from port 5432 that must not count.
const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 41234 1 0000000000000000 100 0 0 10 0
   1: 00000000:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41999 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1538 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000   105        0 52000 1 0000000000000000 20 4 30 10 -1
`;

describe('listeningInodes', () => {
  it('finds listeners on a port, whatever the address, and ignores other states', () => {
    expect([...listeningInodes(PROC_NET_TCP, 5432)]).toEqual(['41234']);
    expect([...listeningInodes(PROC_NET_TCP, 6379)]).toEqual(['41999']);
    expect(listeningInodes(PROC_NET_TCP, 9092).size).toBe(0);
  });
});

describe('pidListensOn', () => {
  it('is true for our own listening socket and false for another port', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(pidListensOn(process.pid, port)).toBe(true);
      expect(pidListensOn(process.pid, port === 1 ? 2 : 1)).toBe(false);
      expect(pidListensOn(1 << 22, port)).toBe(false);
    } finally {
      server.close();
    }
  });
});
