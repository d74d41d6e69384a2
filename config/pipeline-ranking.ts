import type { FieldSpec } from './pipeline-fields';
import type { RANKING_RULES } from './pipeline-schema';

/**
 * How an index orders its hits and suggestions (docs/search.md). Relevance is a ladder of rules,
 * as in Typesense and Meilisearch, each deciding only between hits the rules before it left
 * equal: `typo` (no typo before a typo), `attribute` (a match in a field of higher boost first),
 * `exactness` (the whole field equals the query, then starts with it, then holds it as a phrase,
 * then holds its words). Hits still equal after the rules are ordered by the popularity field,
 * which also orders suggestions.
 */
export type RankingRule = (typeof RANKING_RULES)[number];

export interface RankingSpec {
  rules: readonly RankingRule[];
  /** A numeric or date root field: the tie-breaker after the rules, and the order of suggestions. */
  popularity?: { field: string; order: 'asc' | 'desc' };
  /** The field /suggest completes; default: the searchable text field with the highest boost. */
  suggest?: string;
}

export interface RawRanking {
  rules?: RankingRule[];
  popularity?: { field: string; order?: 'asc' | 'desc' };
  suggest?: string;
}

export const DEFAULT_RULES: readonly RankingRule[] = ['typo', 'attribute', 'exactness'];
const POPULARITY_TYPES: ReadonlySet<string> = new Set(['integer', 'long', 'float', 'double', 'date']);

/** The index's ranking, its fields checked; `at` is the JSON path of the index, for the messages. */
export function compileRanking(at: string, raw: RawRanking | undefined, fields: readonly FieldSpec[], problems: string[]): RankingSpec {
  const spec: RankingSpec = { rules: raw?.rules ?? DEFAULT_RULES };
  const pop = raw?.popularity;
  if (pop) {
    const f = fields.find((x) => x.name === pop.field);
    if (!f) problems.push(`${at}/ranking/popularity/field: "${pop.field}" is not a field of this index; name a numeric or date field listed under "fields" (e.g. a view or sales count).`);
    else if (!POPULARITY_TYPES.has(f.type)) problems.push(`${at}/ranking/popularity/field: "${pop.field}" is ${f.type}; a popularity field must be integer, long, float, double or date, as it orders hits of equal relevance by value.`);
    spec.popularity = { field: pop.field, order: pop.order ?? 'desc' };
  }
  if (raw?.suggest !== undefined) {
    const f = fields.find((x) => x.name === raw.suggest);
    if (!f) problems.push(`${at}/ranking/suggest: "${raw.suggest}" is not a field of this index; name a searchable text field or a keyword field listed under "fields".`);
    else if (!(f.type === 'keyword' || (f.type === 'text' && f.searchable))) {
      problems.push(`${at}/ranking/suggest: "${raw.suggest}" is ${f.type === 'text' ? 'a text field that is not searchable' : f.type}; suggestions complete a keyword field or a text field with "searchable": true (which has the lower-cased exact sub-field they use).`);
    }
    spec.suggest = raw.suggest;
  }
  return spec;
}
