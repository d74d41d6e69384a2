import path from 'node:path';

export type ServiceName = 'ingest' | 'indexer' | 'api';

/**
 * Node flags each service runs with. One list for every way a service is started (npm start,
 * the tests, the benches, docker-compose.yml; service-runtime.test.ts checks the compose file),
 * because V8's heap sizes are fixed when the process starts: v8.setFlagsFromString at run time
 * does not grow the young generation.
 *
 * ingest: a 32 MB semi-space (V8's default is 16 MB). Change events live from decoding until Kafka
 * acknowledges their batch, long enough to be promoted out of a small young generation, and the
 * old-generation collections that followed were a fifth of ingest's main thread at full speed.
 * bench/ingest.bench.ts, same machine, back to back: 200 B 95.8k -> 129.4k rows/s, 1 KB 68.0k -> 76.9k.
 */
export const SERVICE_NODE_FLAGS: Readonly<Record<ServiceName, readonly string[]>> = {
  ingest: ['--max-semi-space-size=32'],
  indexer: [],
  api: [],
};

const ROOT = path.join(__dirname, '..');

/** `node` arguments that start a service from this checkout: its flags, then tsx and its main.ts. */
export function serviceNodeArgs(name: ServiceName): string[] {
  return [...SERVICE_NODE_FLAGS[name], '--import', 'tsx', path.join(ROOT, name, 'main.ts')];
}
