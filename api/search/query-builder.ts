import type { IndexSpec } from '../../config/pipeline';
import { expandSynonyms } from '../synonyms/expand';
import { esFilters } from './es-filters';
import { facetAggs, planFacets, postFilter } from './facet-refinement';
import { checkQuery } from './query-text';
import type { SearchRequest } from './search-backend';

/**
 * Search request → Elasticsearch body. User text only ever reaches `simple_query_string` and
 * `multi_match`; fields, sorts and filters come from the pipeline config.
 */
export function buildSearchBody(index: IndexSpec, req: SearchRequest): Record<string, unknown> {
  // Filters on requested facets narrow the hits through post_filter, not the facet counts.
  const facets = planFacets(index, req);
  const body: Record<string, unknown> = {
    query: buildQuery(index, { ...req, filters: facets.query }),
    size: req.size,
    track_total_hits: true,
  };
  if (!req.cursor) body.from = req.from;
  const sort = buildSort(req);
  if (sort) body.sort = sort;
  if (req.highlight && req.q.trim()) {
    const text = index.fields.filter((f) => f.searchable && f.type === 'text');
    body.highlight = {
      fields: Object.fromEntries(text.map((f) => [f.name, {}])),
      pre_tags: ['<mark>'],
      post_tags: ['</mark>'],
      number_of_fragments: 3,
      // Fragments are HTML for the caller's page: escape the document's own text (a title holding
      // `<img onerror=…>` would otherwise run in it), so only our <mark> tags are markup.
      encoder: 'html',
      // Highlight the exact words only: re-running the fuzzy clause per hit and field made a
      // search 5–10× slower on the demo data (measured: 60 ms → 7 ms for q=dragon). A hit found
      // through a typo alone therefore comes back without highlight.
      highlight_query: wordsQuery(index, req),
    };
  }
  const post = postFilter(facets);
  if (post) body.post_filter = post;
  if (req.facets.length) body.aggs = facetAggs(facets, req);
  return body;
}

function buildQuery(index: IndexSpec, req: SearchRequest): Record<string, unknown> {
  const { filter, must_not } = esFilters(req.filters);
  const q = req.q.trim();
  const must = q ? [textQuery(index, req)] : [];
  if (!must.length && !filter.length && !must_not.length) return { match_all: {} };
  return { bool: { must, filter, must_not } };
}

/**
 * Exact words score through simple_query_string (with the config's boosts, all words required).
 * With typo tolerance on and a plain query (no operators, which a fuzzy clause would ignore, e.g.
 * bringing back a `-excluded` word), a fuzzy multi_match is added as an alternative at a lower
 * weight, so "zelad" still finds Zelda while exact matches rank first.
 */
function textQuery(index: IndexSpec, req: SearchRequest): Record<string, unknown> {
  const q = req.q.trim();
  const exact = wordsQuery(index, req);
  if (!req.fuzzy || !checkQuery(q).plain) return exact;
  const typo = { multi_match: { query: q, fields: boostedFields(index), type: 'best_fields', operator: 'and', fuzziness: 'AUTO', prefix_length: 1, max_expansions: 20, lenient: true, boost: 0.3 } };
  return { bool: { should: [exact, typo], minimum_should_match: 1 } };
}

/**
 * The exact words, with the index's synonyms expanded into should-groups when a rule applies to
 * a plain query (synonyms/expand.ts); queries with operators are taken as written. The fuzzy
 * alternative stays on the words typed: a typo of a word is not a synonym of it.
 */
function wordsQuery(index: IndexSpec, req: SearchRequest): Record<string, unknown> {
  const q = req.q.trim();
  const expanded = req.synonyms && checkQuery(q).plain ? expandSynonyms(q, req.synonyms, (text, boost) => exactQuery(index, text, boost)) : undefined;
  return expanded ?? exactQuery(index, q);
}

function exactQuery(index: IndexSpec, q: string, boost?: number): Record<string, unknown> {
  return { simple_query_string: { query: q, fields: boostedFields(index), default_operator: 'and', lenient: true, flags: 'AND|OR|NOT|PHRASE|PRECEDENCE|PREFIX|ESCAPE|WHITESPACE', ...(boost === undefined ? {} : { boost }) } };
}

function boostedFields(index: IndexSpec): string[] {
  return index.fields.filter((f) => f.searchable).map((f) => (f.boost === 1 ? f.name : `${f.name}^${f.boost}`));
}

/** Relevance first when no sort is asked; cursor paging adds `_shard_doc` as the tiebreaker PIT needs. */
function buildSort(req: SearchRequest): unknown[] | undefined {
  const keys: unknown[] = req.sort.map((s) => (s.esField === '_score' ? '_score' : { [s.esField]: { order: s.order, missing: '_last' } }));
  const hasScore = req.sort.some((s) => s.esField === '_score');
  if (!req.cursor) return keys.length ? (hasScore ? keys : [...keys, '_score']) : undefined;
  if (!hasScore) keys.push('_score');
  keys.push({ _shard_doc: 'asc' });
  return keys;
}
