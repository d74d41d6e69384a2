import type { IndexSpec } from '../../config/pipeline';

export interface SearchRequest {
  q: string;
  size: number;
  from: number;
}

export interface SearchHit {
  id: string;
  score: number | null;
  document: Record<string, unknown>;
  highlight?: Record<string, string[]>;
}

export interface SearchResult {
  total: number;
  totalRelation: 'eq' | 'gte';
  tookMs: number;
  hits: SearchHit[];
}

/** Port in front of the search engine; routes never see the Elasticsearch client. */
export interface SearchBackend {
  search(index: IndexSpec, req: SearchRequest): Promise<SearchResult>;
  ready(): Promise<boolean>;
}
