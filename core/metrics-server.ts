import http from 'node:http';
import type { Registry } from 'prom-client';

/** /metrics and /healthz for the headless services (ingest, indexer). */
export async function startMetricsServer(registry: Registry, port: number, healthy: () => boolean): Promise<http.Server | undefined> {
  if (port === 0) return undefined;
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'failing' }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return server;
}
