import type { IndexSpec } from '../../config/pipeline';
import { badRequest } from '../errors';
import type { ParamKinds, Params } from '../http/params';
import { CONSISTENCY_PARAMS } from '../freshness/read-your-writes';
import { exactPath, findPath, listPaths, type FieldPath } from './field-paths';
import { canonicalFilter, parseFilter } from './filter';
import { checkQuery } from './query-text';
import type { SearchRequest, SortKey } from './search-backend';

/** Elasticsearch refuses from + size beyond 10,000; deeper pages use cursors. */
export const MAX_WINDOW = 10_000;
export const MAX_SIZE = 100;
export const MAX_FACETS = 10;
export const MAX_FACET_SIZE = 100;
const MAX_SORT_KEYS = 3;

/** The parameters and their JSON types in a POST body (a query string carries them as text). */
export const SEARCH_PARAMS = {
  q: 'string',
  filter: 'string',
  facets: 'string',
  facetSize: 'integer',
  sort: 'string',
  highlight: 'boolean',
  fuzzy: 'boolean',
  page: 'integer',
  size: 'integer',
  cursor: 'string',
  // Read-your-writes (freshness/read-your-writes.ts); not part of the normalised request.
  ...CONSISTENCY_PARAMS,
} as const satisfies ParamKinds;

export interface ParsedSearch {
  request: Omit<SearchRequest, 'cursor'>;
  page: number;
  /** `start`, an opaque cursor from a previous response, or none (page paging). */
  cursor: string | undefined;
  /**
   * The request reduced to what decides which documents match and in which order, with a fixed
   * key order and canonical filters: cursors are bound to its hash (page size may change).
   */
  identity: Record<string, unknown>;
  /** identity plus paging and presentation: everything the answer depends on (the cache key). */
  normalised: Record<string, unknown>;
}

export function parseSearch(index: IndexSpec, p: Params): ParsedSearch {
  const q = p.str('q') ?? '';
  checkQuery(q);
  const size = p.int('size', 10, 0, MAX_SIZE);
  const cursor = p.str('cursor') || undefined;
  if (cursor && p.has('page')) throw badRequest('PARAM_CONFLICT', 'give either page or cursor, not both');
  const page = p.int('page', 1, 1, MAX_WINDOW);
  const from = (page - 1) * size;
  if (from + size > MAX_WINDOW) {
    throw badRequest('PAGE_TOO_DEEP', `page ${page} with size ${size} reaches past result ${MAX_WINDOW}; to read further, page with cursors: send cursor=start, then the cursor of each response`);
  }
  const filters = parseFilter(p.str('filter'), index);
  const sort = parseSort(index, p.list('sort', MAX_SORT_KEYS));
  const facets = p.list('facets', MAX_FACETS).map((name) => {
    const f = findPath(index, name);
    if (!f?.spec.facetable) throw badRequest('FACET_FIELD_NOT_ALLOWED', `facets: ${JSON.stringify(name)} is not a facetable field of ${index.name}; facetable fields: ${names(index, 'facetable')}`);
    return { field: f.path, esField: exactPath(f), ...nestedOf(f) };
  });
  const request = {
    q,
    fuzzy: p.bool('fuzzy', true),
    filters,
    sort,
    facets,
    facetSize: p.int('facetSize', 10, 1, MAX_FACET_SIZE),
    highlight: p.bool('highlight', true),
    size,
    from,
  };
  const identity = { index: index.name, q: q.trim(), fuzzy: request.fuzzy, filter: canonicalFilter(filters), sort: sort.map((s) => `${s.order === 'desc' ? '-' : ''}${s.field}`) };
  // The ranking config orders the answer: a cached answer (Redis outlives an API restart) must not
  // outlive a change of it.
  const normalised = { ...identity, page, size, facets: facets.map((f) => f.field), facetSize: request.facetSize, highlight: request.highlight, cursor: cursor ?? null, ranking: index.ranking ?? null };
  return { request, page, cursor, identity, normalised };
}

function parseSort(index: IndexSpec, keys: string[]): SortKey[] {
  return keys.map((key) => {
    const desc = key.startsWith('-');
    const name = desc ? key.slice(1) : key;
    // Relevance can be one key among others (sort=-year,relevance); most relevant first.
    if (key === 'relevance') return { field: 'relevance', esField: '_score', order: 'desc' };
    const f = findPath(index, name);
    if (!f?.spec.sortable) throw badRequest('SORT_FIELD_NOT_ALLOWED', `sort: ${JSON.stringify(name)} is not a sortable field of ${index.name}; sortable fields: ${names(index, 'sortable')} and relevance (prefix - for descending, e.g. sort=-year,title)`);
    return { field: f.path, esField: exactPath(f), order: desc ? 'desc' : 'asc', ...nestedOf(f) };
  });
}

function names(index: IndexSpec, flag: 'facetable' | 'sortable'): string {
  return listPaths(index, (f) => f.spec[flag]);
}

/** Set only for fields of nested relations, so requests on root fields look as they always did. */
function nestedOf(f: FieldPath): { nested?: readonly string[] } {
  return f.nested.length ? { nested: f.nested } : {};
}
