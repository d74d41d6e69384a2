import http from 'node:http';
import type { Registry } from 'prom-client';
import { VERSION } from './version';

/**
 * What /healthz says. `degraded` answers 200 (restarting would not help: an operator must act, e.g.
 * on a schema change) with the problems in the body; `failing` answers 503.
 */
export interface HealthReport {
  status: 'ok' | 'degraded' | 'failing';
  problems?: readonly unknown[];
  /** Ingest only: `standby` while another ingest holds the slot (healthy: 200), `active` once it streams. */
  role?: 'starting' | 'standby' | 'active';
  /** The running build's version (core/version.ts). */
  version?: string;
}

/** /metrics and /healthz for the headless services (ingest, indexer). */
export async function startMetricsServer(registry: Registry, port: number, health: () => boolean | HealthReport): Promise<http.Server | undefined> {
  if (port === 0) return undefined;
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/healthz') {
      const h = health();
      const report: HealthReport = { ...(typeof h === 'boolean' ? { status: h ? 'ok' : 'failing' } : h), version: VERSION };
      res.writeHead(report.status === 'failing' ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(report));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return server;
}
