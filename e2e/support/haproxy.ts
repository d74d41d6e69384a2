import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureAptPackage } from '../../stack/apt';

const BIN = '/usr/sbin/haproxy';
const CONFIG = path.join(__dirname, '..', '..', 'ops', 'haproxy', 'haproxy.cfg');

export interface Balancer { child: ChildProcess; output: () => string; servers: () => Promise<Record<string, { status: string; retries: number; redispatches: number }>>; stop: () => Promise<void> }

/**
 * HAProxy (Debian's package, installed on first use as the stack installs its packages) running
 * ops/haproxy/haproxy.cfg with only its marked lines replaced: loopback listeners and fixed
 * servers instead of the compose DNS template.
 */
export async function startBalancer(opts: { port: number; statsPort: number; servers: Array<{ name: string; port: number }> }): Promise<Balancer> {
  await ensureAptPackage('haproxy', BIN);
  const lines = fs.readFileSync(CONFIG, 'utf8').split('\n').map((line) => {
    if (line.includes('the test replaces: bind')) return `  bind 127.0.0.1:${opts.port}`;
    if (line.includes('the test replaces: stats')) return `  bind 127.0.0.1:${opts.statsPort}`;
    if (line.includes('the test replaces: servers')) return opts.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`).join('\n');
    return line;
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haproxy-'));
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(cfg, lines.join('\n'));
  const log = path.join(dir, 'haproxy.log');
  const out = fs.openSync(log, 'w');
  const child = spawn(BIN, ['-db', '-f', cfg], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const output = (): string => fs.readFileSync(log, 'utf8');
  // The stats CSV: pxname, svname, ..., wretr (16th), wredis (17th), status (18th), ...
  const servers = async (): Promise<Record<string, { status: string; retries: number; redispatches: number }>> => {
    const csv = await (await fetch(`http://127.0.0.1:${opts.statsPort}/stats;csv`)).text();
    const out: Record<string, { status: string; retries: number; redispatches: number }> = {};
    for (const row of csv.split('\n').slice(1)) {
      const col = row.split(',');
      if (col[0] === 'api' && col[1] && col[1] !== 'FRONTEND') out[col[1]] = { status: col[17] ?? '', retries: Number(col[15] || 0), redispatches: Number(col[16] || 0) };
    }
    return out;
  };
  return {
    child,
    output,
    servers,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
