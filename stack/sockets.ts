import * as fs from 'node:fs';

const LISTEN = '0A';

/**
 * Inodes of sockets listening on `port`, from the text of /proc/net/tcp or tcp6. Used to tell
 * "our process is listening" from "something answers on that port", which a TCP connect cannot.
 */
export function listeningInodes(procNetTcp: string, port: number): Set<string> {
  const inodes = new Set<string>();
  for (const line of procNetTcp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    if (!local || f[3] !== LISTEN) continue;
    const hexPort = local.slice(local.lastIndexOf(':') + 1);
    if (parseInt(hexPort, 16) === port && f[9] && f[9] !== '0') inodes.add(f[9]);
  }
  return inodes;
}

/** True when process `pid` itself holds a listening socket on `port` (needs /proc; we are root or the owner). */
export function pidListensOn(pid: number, port: number): boolean {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const inode of listeningInodes(fs.readFileSync(table, 'utf8'), port)) inodes.add(inode);
    } catch {
      // No IPv6 table on this host.
    }
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m?.[1] && inodes.has(m[1])) return true;
    } catch {
      // The fd closed while we looked.
    }
  }
  return false;
}
