import type { FieldSpec, IndexSpec } from '../../config/pipeline';
import { wholeValueFieldName } from '../../core/field-names';
import { badRequest } from '../errors';
import type { ParamKinds, Params } from '../http/params';
import { esFilters } from './es-filters';
import { parseFilter, type FilterClause } from './filter';
import { rankingOf, wholeValue } from './ranking';

/**
 * Search-as-you-type suggestions: distinct values of the index's suggestion field that start
 * with what was typed (case aside), the most popular first. They come from the field's
 * lower-cased whole value (`.exact`, indexer/mappings.ts) through a `prefix` query, so every
 * suggestion starts with the typed text, and are deduplicated on it (collapse). Order: the
 * index's popularity field (ranking.popularity), then the value, so a shorter completion comes
 * before its longer ones; without a popularity field, the value alone.
 */
export const SUGGEST_PARAMS = { q: 'string', size: 'integer', filter: 'string' } as const satisfies ParamKinds;
export const MAX_SUGGEST_SIZE = 20;
const MAX_SUGGEST_CHARS = 100;

export interface SuggestRequest {
  /** The field whose values are suggested (as stored, from _source). */
  field: string;
  /** Its whole-value field: `.exact` of text (lower-cased), the keyword itself. */
  valueField: string;
  /** A keyword field keeps its case: its prefix query is made case-insensitive instead. */
  caseInsensitive: boolean;
  /** What was typed: leading spaces dropped, runs of spaces as one, a trailing space kept. */
  q: string;
  size: number;
  filters: FilterClause[];
  popularity?: { field: string; order: 'asc' | 'desc' };
}

export function parseSuggest(index: IndexSpec, p: Params): SuggestRequest {
  const q = (p.str('q') ?? '').trimStart().replace(/\s+/g, ' ');
  if (!q) throw badRequest('PARAM_MISSING', 'q is required: the text typed so far, e.g. q=zel');
  if (q.length > MAX_SUGGEST_CHARS) throw badRequest('QUERY_TOO_LONG', `q is ${q.length} characters; suggestions take at most ${MAX_SUGGEST_CHARS}`);
  const field = suggestField(index);
  const ranking = rankingOf(index);
  return {
    field: field.name,
    valueField: wholeValueFieldName(field),
    caseInsensitive: field.type === 'keyword',
    q,
    size: p.int('size', 5, 1, MAX_SUGGEST_SIZE),
    filters: parseFilter(p.str('filter'), index),
    ...(ranking.popularity ? { popularity: ranking.popularity } : {}),
  };
}

/** ranking.suggest (checked by the config), else the searchable text field with the highest boost. */
function suggestField(index: IndexSpec): FieldSpec {
  const named = rankingOf(index).suggest;
  const field = named ? index.fields.find((f) => f.name === named) : [...index.fields].filter((f) => f.searchable && f.type === 'text').sort((a, b) => b.boost - a.boost)[0];
  if (!field) throw badRequest('SUGGEST_UNAVAILABLE', `${index.name} has no searchable text field to suggest from; set "ranking": { "suggest": "<field>" } in the pipeline config`);
  return field;
}

export function buildSuggestBody(req: SuggestRequest): Record<string, unknown> {
  const { filter, must_not } = esFilters(req.filters);
  // A trailing space is part of what was typed ("super " completes the next word); only
  // leading ones go.
  const typed = req.caseInsensitive ? req.q : wholeValue(req.q) + (req.q.endsWith(' ') ? ' ' : '');
  const prefix = { prefix: { [req.valueField]: req.caseInsensitive ? { value: typed, case_insensitive: true } : { value: typed } } };
  const byPopularity = req.popularity ? [{ [req.popularity.field]: { order: req.popularity.order, missing: '_last' } }] : [];
  return {
    size: req.size,
    _source: [req.field],
    track_total_hits: false,
    query: { bool: { filter: [prefix, ...filter], must_not } },
    sort: [...byPopularity, { [req.valueField]: 'asc' }],
    collapse: { field: req.valueField },
  };
}
