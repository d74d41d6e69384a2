import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** pgsync, the peer bench/joined.bench.ts compares with: its install from PyPI and the proxy its client needs here. */

/** A venv outside the repository, shared by every clone, so the install happens once per machine. */
const PGSYNC_HOME = path.join(os.homedir(), '.cache', 'search-pipeline', 'pgsync-venv');

export function ensurePgsync(say: (m: string) => void): string {
  const bin = path.join(PGSYNC_HOME, 'bin');
  if (fs.existsSync(path.join(bin, 'pgsync')) && fs.existsSync(path.join(bin, 'bootstrap'))) return bin;
  say(`installing pgsync from PyPI into ${PGSYNC_HOME}`);
  fs.mkdirSync(path.dirname(PGSYNC_HOME), { recursive: true });
  if (spawnSync('python3', ['-m', 'venv', PGSYNC_HOME], { stdio: 'inherit' }).status !== 0) throw new Error('python3 -m venv failed');
  if (spawnSync(path.join(bin, 'pip'), ['install', '-q', 'pgsync'], { stdio: 'inherit' }).status !== 0) throw new Error('pip install pgsync failed');
  return bin;
}

/**
 * Loopback proxy to Elasticsearch for pgsync: `GET /` (which this Elasticsearch answers with 405)
 * gets an 8.x info body, so its client passes the product check and knows the major version;
 * everything else is piped through unchanged.
 */
export async function startInfoProxy(esUrl: string, version: string): Promise<{ url: string; close: () => Promise<void> }> {
  const target = new URL(esUrl);
  const info = JSON.stringify({ name: 'bench-proxy', cluster_name: 'search-pipeline', cluster_uuid: 'bench', version: { number: version, build_flavor: 'default', build_type: 'tar', lucene_version: '9.12.0', minimum_wire_compatibility_version: '7.17.0', minimum_index_compatibility_version: '7.0.0' }, tagline: 'You Know, for Search' });
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/?'))) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch', 'content-length': Buffer.byteLength(info) }).end(info);
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502).end(String(err));
      else res.destroy();
    });
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

