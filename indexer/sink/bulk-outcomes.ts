/**
 * What to do with one bulk item, as a table (docs/architecture.md, "Bulk item outcomes").
 * done: durable; stale: a newer version is already there, also done; retry: try the item
 * again with backoff; dead-letter: the document can never be written as is; unknown: retry a
 * bounded number of times, then stop the partition loudly.
 */
export type Outcome = 'done' | 'stale' | 'retry' | 'dead-letter' | 'unknown';

const BY_ERROR_TYPE: Record<string, Outcome> = {
  version_conflict_engine_exception: 'stale',
  es_rejected_execution_exception: 'retry',
  circuit_breaking_exception: 'retry',
  unavailable_shards_exception: 'retry',
  document_parsing_exception: 'dead-letter',
  mapper_parsing_exception: 'dead-letter',
  illegal_argument_exception: 'dead-letter',
  strict_dynamic_mapping_exception: 'dead-letter',
  document_missing_exception: 'dead-letter',
};

export function classifyItem(status: number, errorType: string | undefined, action: string): Outcome {
  if (status >= 200 && status < 300) return 'done';
  if (status === 404 && action === 'delete' && !errorType) return 'done'; // deleting what never existed leaves a tombstone
  if (errorType && BY_ERROR_TYPE[errorType]) return BY_ERROR_TYPE[errorType] as Outcome;
  if (status === 409) return 'stale';
  if (status === 429 || status >= 500) return 'retry';
  return 'unknown';
}
