import { classifyItem } from './bulk-outcomes';

describe('bulk item outcome table', () => {
  it.each([
    [201, undefined, 'index', 'done'],
    [200, undefined, 'delete', 'done'],
    [404, undefined, 'delete', 'done'],
    [409, 'version_conflict_engine_exception', 'index', 'stale'],
    [429, 'es_rejected_execution_exception', 'index', 'retry'],
    [503, 'unavailable_shards_exception', 'index', 'retry'],
    [500, 'something_new', 'index', 'retry'],
    [400, 'document_parsing_exception', 'index', 'dead-letter'],
    [400, 'illegal_argument_exception', 'index', 'dead-letter'],
    [404, 'index_not_found_exception', 'index', 'unknown'],
    [400, 'never_seen_before', 'index', 'unknown'],
  ])('%i %s on %s → %s', (status, type, action, outcome) => {
    expect(classifyItem(status, type, action)).toBe(outcome);
  });
});
