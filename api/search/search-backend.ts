import type { IndexSpec } from '../../config/pipeline';
import type { AnalyticsRequest, AnalyticsResult, FieldRange } from '../analytics/analytics-request';
import type { CompiledSynonyms } from '../synonyms/rules';
import type { FilterClause } from './filter';
import type { SuggestRequest } from './suggest';

/** A validated search: every field named here was checked against the pipeline config. */
export interface SortKey {
  field: string;
  /** The Elasticsearch field to sort on (`<text>.raw` for text). */
  esField: string;
  order: 'asc' | 'desc';
  /** The nested relations holding the field, outermost first (FieldPath.nested); none at the root. */
  nested?: readonly string[];
}

/** A facet: `field` is the path as asked (and the key of the answer), `esField` the exact field. */
export interface FacetRequest {
  field: string;
  esField: string;
  nested?: readonly string[];
}

export interface SearchRequest {
  q: string;
  /** Typo tolerance: also match words within an edit distance (AUTO) of the query's words. */
  fuzzy: boolean;
  filters: FilterClause[];
  /** Empty: by relevance. */
  sort: SortKey[];
  facets: FacetRequest[];
  facetSize: number;
  highlight: boolean;
  size: number;
  from: number;
  /** The index's synonym rules, expanded into the text query (synonyms/expand.ts); none: words as typed. */
  synonyms?: CompiledSynonyms;
  /** Cursor paging: `start` opens a point in time; otherwise continue after `searchAfter`. */
  cursor?: { pitId: string; searchAfter: unknown[] } | 'start';
}

export interface SearchHit {
  id: string;
  score: number | null;
  document: Record<string, unknown>;
  highlight?: Record<string, string[]>;
}

export interface FacetBucket {
  value: string | number | boolean;
  count: number;
}

export interface SearchResult {
  total: number;
  totalRelation: 'eq' | 'gte';
  tookMs: number;
  hits: SearchHit[];
  facets?: Record<string, FacetBucket[]>;
  /** Only for cursor paging: the point in time and the last hit's sort values. */
  next?: { pitId: string; searchAfter: unknown[] };
}

/** A field to find the range of: its exact name and, for a nested relation's, the relations on its way. */
export interface RangeField {
  esField: string;
  nested?: readonly string[];
}

/** Port in front of the search engine; routes never see the Elasticsearch client. */
export interface SearchBackend {
  search(index: IndexSpec, req: SearchRequest): Promise<SearchResult>;
  getDocument(index: IndexSpec, id: string): Promise<Record<string, unknown> | undefined>;
  /** Distinct values of the suggestion field for what was typed so far, best first. */
  suggest(index: IndexSpec, req: SuggestRequest): Promise<string[]>;
  /** Smallest and largest value of a numeric or date field among documents matching the filters. */
  fieldRange(index: IndexSpec, field: RangeField, filters: FilterClause[]): Promise<FieldRange>;
  analytics(index: IndexSpec, req: AnalyticsRequest): Promise<AnalyticsResult>;
  ready(): Promise<boolean>;
}
