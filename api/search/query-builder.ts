import type { IndexSpec } from '../../config/pipeline';
import { esFilters } from './es-filters';
import { facetAggs, planFacets, postFilter } from './facet-refinement';
import { HIDDEN_SOURCE_PATTERNS } from './hidden-fields';
import { nestedSort } from './nested';
import { rankingOf } from './ranking';
import type { SearchRequest } from './search-backend';
import { highlightOf, searchGroups, textQuery } from './text-query';

/**
 * Search request → Elasticsearch body. User text only ever reaches `simple_query_string` and
 * `multi_match` (text-query.ts); fields, sorts and filters come from the pipeline config.
 */
export function buildSearchBody(index: IndexSpec, req: SearchRequest): Record<string, unknown> {
  const q = req.q.trim();
  const highlight = req.highlight && q !== '';
  // Filters on requested facets narrow the hits through post_filter, not the facet counts
  // (facet-refinement.ts).
  const facets = planFacets(index, req);
  const body: Record<string, unknown> = {
    query: buildQuery(index, { ...req, filters: facets.query }, q, highlight),
    size: req.size,
    track_total_hits: true,
    _source: { excludes: HIDDEN_SOURCE_PATTERNS },
  };
  if (!req.cursor) body.from = req.from;
  const sort = buildSort(index, req);
  if (sort) body.sort = sort;
  // The root document's text (its own and its object relations'); nested relations highlight
  // through inner hits of their part of the query (text-query.ts). Synonyms are highlighted too.
  const hl = highlight ? highlightOf(searchGroups(index).find((g) => g.nested === undefined)?.fields ?? [], q, req.synonyms) : undefined;
  if (hl) body.highlight = hl;
  const post = postFilter(facets);
  if (post) body.post_filter = post;
  if (req.facets.length) body.aggs = facetAggs(facets, req);
  return body;
}

function buildQuery(index: IndexSpec, req: SearchRequest, q: string, highlight: boolean): Record<string, unknown> {
  const { filter, must_not } = esFilters(req.filters);
  const must = q ? [textQuery(index, q, req.fuzzy, highlight, req.synonyms)] : [];
  if (!must.length && !filter.length && !must_not.length) return { match_all: {} };
  return { bool: { must, filter, must_not } };
}

/**
 * Relevance first when no sort is asked; cursor paging adds `_shard_doc` as the tiebreaker PIT
 * needs. A field of a nested relation sorts a root by its smallest value ascending, its largest
 * descending, among all its objects. The index's popularity field follows the score wherever the
 * score sorts: it orders the hits the ranking rules left equal (ranking.ts), and without a query
 * (all scores equal) it orders everything.
 */
function buildSort(index: IndexSpec, req: SearchRequest): unknown[] | undefined {
  const popularity = rankingOf(index).popularity;
  const byScore: unknown[] = ['_score', ...(popularity ? [{ [popularity.field]: { order: popularity.order, missing: '_last' } }] : [])];
  const keys: unknown[] = req.sort.flatMap((s) => {
    if (s.esField === '_score') return byScore;
    const nested = s.nested?.length ? { mode: s.order === 'asc' ? 'min' : 'max', nested: nestedSort(s.nested) } : {};
    return [{ [s.esField]: { order: s.order, missing: '_last', ...nested } }];
  });
  const hasScore = req.sort.some((s) => s.esField === '_score');
  if (!hasScore && (keys.length || req.cursor || popularity)) keys.push(...byScore);
  if (req.cursor) keys.push({ _shard_doc: 'asc' });
  return keys.length ? keys : undefined;
}
