/**
 * The adapter between InstantSearch.js and this API, as pure functions (unit-tested in Node):
 * InstantSearch speaks the Algolia protocol (a list of queries, each with `facetFilters`,
 * 0-based `page`, `hitsPerPage`; answers with `_highlightResult`, `nbPages`, facet maps); the API
 * takes `q`, `filter`, `facets`, `sort`, 1-based `page` and `size`. The helper asks for
 * disjunctive facets as extra queries without the facet's own refinement; each becomes one API
 * search (the API's own refinement facets would give the same counts).
 */

/** What the page knows of an index (built by the server from the pipeline config). */
export interface PageIndex {
  name: string;
  /** Fields shown as refinement lists: facetable and filterable. */
  facets: string[];
  /** Sortable fields, for the sort menu. */
  sorts: string[];
  /** The hit's heading (the searchable text field with the highest boost); also what /suggest completes. */
  titleField: string;
  /** Other fields shown under the heading. */
  detailFields: string[];
}

export interface PageConfig {
  indexes: PageIndex[];
  /** API_AUTH=keys: the page needs a browser key (from the URL fragment). */
  auth: boolean;
}

/** The subset of an InstantSearch query this adapter reads. */
export interface AlgoliaQuery {
  indexName: string;
  params?: {
    query?: string;
    page?: number;
    hitsPerPage?: number;
    facets?: string | string[];
    facetFilters?: string | Array<string | string[]>;
    maxValuesPerFacet?: number;
  };
}

/** The API's search answer, as far as the page uses it. */
export interface ApiSearchAnswer {
  total: number;
  totalRelation: 'eq' | 'gte';
  tookMs: number;
  hits: Array<{ id: string; document: Record<string, unknown>; highlight?: Record<string, string[]> }>;
  facets?: Record<string, Array<{ value: string | number | boolean; count: number }>>;
}

/** The API refuses from + size beyond this (api/search/search-params.ts MAX_WINDOW). */
const MAX_WINDOW = 10_000;
const MAX_SIZE = 100;
const MAX_FACETS = 10;
const SORT_SEPARATOR = '~';

/** InstantSearch's highlight markers: its own escaping runs on the text between them. */
export const PRE_TAG = '__ais-highlight__';
export const POST_TAG = '__/ais-highlight__';

/** `titles~-year` → index `titles`, sort `-year`: the sort menu's replicas are one index with a sort. */
export function sortIndexName(index: string, sort: string | undefined): string {
  return sort ? `${index}${SORT_SEPARATOR}${sort}` : index;
}

export function splitIndexName(indexName: string): { index: string; sort: string | undefined } {
  const at = indexName.indexOf(SORT_SEPARATOR);
  return at < 0 ? { index: indexName, sort: undefined } : { index: indexName.slice(0, at), sort: indexName.slice(at + 1) };
}

/** One InstantSearch query → the API's search parameters (as a query string's name/value pairs). */
export function toApiParams(query: AlgoliaQuery, config: PageIndex): Record<string, string> {
  const p = query.params ?? {};
  const { sort } = splitIndexName(query.indexName);
  const size = Math.max(0, Math.min(MAX_SIZE, p.hitsPerPage ?? 20));
  const pages = size ? Math.floor(MAX_WINDOW / size) : 1;
  const page = Math.min(Math.max(0, p.page ?? 0), pages - 1) + 1;
  const requested = p.facets === undefined ? [] : p.facets === '*' ? config.facets : typeof p.facets === 'string' ? [p.facets] : p.facets;
  const facets = requested.filter((f) => config.facets.includes(f)).slice(0, MAX_FACETS);
  const out: Record<string, string> = { q: p.query ?? '', page: String(page), size: String(size), highlight: String(size > 0) };
  if (facets.length) {
    out.facets = facets.join(',');
    out.facetSize = String(Math.max(1, Math.min(100, p.maxValuesPerFacet ?? 10)));
  }
  const filter = toFilter(p.facetFilters);
  if (filter) out.filter = filter;
  if (sort) out.sort = sort;
  return out;
}

/**
 * `facetFilters` (AND of entries, each `attr:value` or an OR-list of them) → the API's filter
 * syntax: one clause per entry, `attr:v1,v2`. An OR across different fields has no API form.
 */
export function toFilter(facetFilters: string | Array<string | string[]> | undefined): string {
  if (facetFilters === undefined) return '';
  const entries = typeof facetFilters === 'string' ? [facetFilters] : facetFilters;
  const clauses: string[] = [];
  for (const entry of entries) {
    const alternatives = (typeof entry === 'string' ? [entry] : entry).map(parseFacetFilter);
    if (!alternatives.length) continue;
    const first = alternatives[0]!;
    if (alternatives.some((a) => a.field !== first.field || a.negate !== first.negate)) throw new Error(`an OR across fields (${alternatives.map((a) => a.field).join(', ')}) cannot be searched`);
    clauses.push(`${first.negate ? '-' : ''}${first.field}:${alternatives.map((a) => quoteValue(a.value)).join(',')}`);
  }
  return clauses.join(' ');
}

function parseFacetFilter(text: string): { field: string; value: string; negate: boolean } {
  const at = text.indexOf(':');
  if (at <= 0) throw new Error(`facet filter ${JSON.stringify(text)} is not attribute:value`);
  let field = text.slice(0, at);
  let value = text.slice(at + 1);
  const negate = value.startsWith('-');
  if (negate) value = value.slice(1);
  // The helper escapes a leading "-" of a value as "\-".
  if (value.startsWith('\\-')) value = value.slice(1);
  field = field.trim();
  return { field, value, negate };
}

/** Values the filter syntax reads bare stay bare (numbers, plain words); others are quoted. */
export function quoteValue(value: string): string {
  if (/^[A-Za-z0-9_][A-Za-z0-9_.:+-]*$/.test(value) && !value.includes('..')) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'", '&#39;': "'", '&#x2F;': '/', '&#47;': '/' };

/**
 * An API highlight fragment (the document's text HTML-escaped, matches in <mark>) → the text
 * with InstantSearch's markers: InstantSearch escapes the text again and renders it as text
 * nodes, so nothing of the document ever becomes markup.
 */
export function toHighlightValue(fragment: string): string {
  return fragment
    .split(/(<mark>|<\/mark>)/)
    .map((part) => (part === '<mark>' ? PRE_TAG : part === '</mark>' ? POST_TAG : part.replace(/&(?:amp|lt|gt|quot|#x27|#39|#x2F|#47);/g, (e) => ENTITIES[e] ?? e)))
    .join('');
}

/** The API's answer → InstantSearch's result for `query`. */
export function toAlgoliaResult(query: AlgoliaQuery, params: Record<string, string>, answer: ApiSearchAnswer, config: PageIndex): Record<string, unknown> {
  const size = Number(params.size);
  const page = Number(params.page) - 1;
  const reachable = size ? Math.min(answer.total, MAX_WINDOW) : 0;
  const shown = [config.titleField, ...config.detailFields];
  const hits = answer.hits.map((h) => {
    const highlightResult: Record<string, { value: string; matchLevel: string; matchedWords: string[] }> = {};
    for (const field of shown) {
      const fragment = h.highlight?.[field]?.[0];
      const raw = h.document[field];
      if (fragment === undefined && (raw === undefined || raw === null)) continue;
      // Without a fragment the stored value is plain text: mark nothing, InstantSearch escapes it.
      highlightResult[field] = { value: fragment === undefined ? String(raw) : toHighlightValue(fragment), matchLevel: fragment === undefined ? 'none' : 'full', matchedWords: [] };
    }
    return { ...h.document, objectID: h.id, _highlightResult: highlightResult };
  });
  const facets: Record<string, Record<string, number>> = {};
  for (const [field, buckets] of Object.entries(answer.facets ?? {})) facets[field] = Object.fromEntries(buckets.map((b) => [String(b.value), b.count]));
  return {
    index: query.indexName,
    query: params.q ?? '',
    params: '',
    hits,
    nbHits: answer.total,
    exhaustiveNbHits: answer.totalRelation === 'eq',
    page,
    hitsPerPage: size,
    nbPages: size ? Math.ceil(reachable / size) : 0,
    processingTimeMS: answer.tookMs,
    facets,
    exhaustiveFacetsCount: true,
  };
}
