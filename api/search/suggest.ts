import type { IndexSpec } from '../../config/pipeline';
import { exactFieldName } from '../../core/field-names';
import { badRequest } from '../errors';
import type { ParamKinds, Params } from '../http/params';
import { esFilters } from './es-filters';
import { parseFilter, type FilterClause } from './filter';

/**
 * Search-as-you-type suggestions from the index's most important text field (the searchable
 * text field with the highest boost): every word of q must match, the last one as a prefix,
 * and equal values are returned once. This needs no special mapping; a `completion` sub-field
 * written by the indexer would be faster on large indexes and can replace the body below.
 */
export const SUGGEST_PARAMS = { q: 'string', size: 'integer', filter: 'string' } as const satisfies ParamKinds;
export const MAX_SUGGEST_SIZE = 20;
const MAX_SUGGEST_CHARS = 100;

export interface SuggestRequest {
  field: string;
  /** Exact sub-field to deduplicate on, when the mapping has one. */
  collapseField?: string;
  q: string;
  size: number;
  filters: FilterClause[];
}

export function parseSuggest(index: IndexSpec, p: Params): SuggestRequest {
  const q = (p.str('q') ?? '').trim();
  if (!q) throw badRequest('PARAM_MISSING', 'q is required: the text typed so far, e.g. q=zel');
  if (q.length > MAX_SUGGEST_CHARS) throw badRequest('QUERY_TOO_LONG', `q is ${q.length} characters; suggestions take at most ${MAX_SUGGEST_CHARS}`);
  const field = [...index.fields].filter((f) => f.searchable && f.type === 'text').sort((a, b) => b.boost - a.boost)[0];
  if (!field) throw badRequest('SUGGEST_UNAVAILABLE', `${index.name} has no searchable text field to suggest from`);
  const hasRaw = field.sortable || field.facetable || field.filterable;
  return {
    field: field.name,
    ...(hasRaw ? { collapseField: exactFieldName(field) } : {}),
    q,
    size: p.int('size', 5, 1, MAX_SUGGEST_SIZE),
    filters: parseFilter(p.str('filter'), index),
  };
}

export function buildSuggestBody(req: SuggestRequest): Record<string, unknown> {
  const { filter, must_not } = esFilters(req.filters);
  return {
    size: req.size,
    _source: [req.field],
    track_total_hits: false,
    query: { bool: { must: [{ multi_match: { query: req.q, type: 'bool_prefix', fields: [req.field], operator: 'and' } }], filter, must_not } },
    ...(req.collapseField ? { collapse: { field: req.collapseField } } : {}),
  };
}
