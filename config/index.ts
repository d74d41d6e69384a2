/**
 * The only place that reads the environment. Every service calls its loader once at start;
 * the result is frozen and passed down. One module per service's loader (ingest-config.ts,
 * indexer-config.ts, api-config.ts), what they share in common-config.ts; import them from here.
 */
export * from './common-config';
export * from './ingest-config';
export * from './indexer-config';
export * from './api-config';
