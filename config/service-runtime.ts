import path from 'node:path';

export type ServiceName = 'ingest' | 'indexer' | 'api';

/**
 * Node flags each service runs with. One list for every way a service is started (npm start,
 * the tests, the benches, docker-compose.yml and ops/k8s running the compiled build;
 * service-runtime.test.ts checks the compose file),
 * because V8's heap sizes are fixed when the process starts: v8.setFlagsFromString at run time
 * does not grow the young generation.
 *
 * ingest: a 32 MB semi-space (V8's default is 16 MB). Change events live from decoding until Kafka
 * acknowledges their batch, long enough to be promoted out of a small young generation, and the
 * old-generation collections that followed were a fifth of ingest's main thread at full speed.
 * bench/ingest.bench.ts, same machine, back to back: 200 B 95.8k -> 129.4k rows/s, 1 KB 68.0k -> 76.9k.
 *
 * indexer: the same, for the same reason (a fetched batch lives until Elasticsearch answered its
 * bulk). bench/indexer.bench.ts back to back: ~300 B 46.2k -> 57.3k docs/s, CPU 12.7 -> 11.1 µs
 * per document; ~2 KB unchanged within noise (24.2k / 23.7k), CPU 23.0 -> 21.4 µs.
 */
export const SERVICE_NODE_FLAGS: Readonly<Record<ServiceName, readonly string[]>> = {
  ingest: ['--max-semi-space-size=32'],
  indexer: ['--max-semi-space-size=32'],
  api: [],
};

const ROOT = path.join(__dirname, '..');

/** `node` arguments that start a service from this checkout: its flags, then tsx and its main.ts. */
export function serviceNodeArgs(name: ServiceName): string[] {
  return [...SERVICE_NODE_FLAGS[name], '--import', 'tsx', path.join(ROOT, name, 'main.ts')];
}
