import type { Client } from '@elastic/elasticsearch';
import type { IndexSpec } from '../../config/pipeline';
import { ApiError } from '../errors';
import type { SearchBackend, SearchRequest, SearchResult } from './search-backend';

/**
 * Queries are built from validated parameters over the fields the pipeline config allows;
 * user text only ever reaches `simple_query_string`, whose syntax errors cannot fail a request.
 */
export function buildSearchBody(index: IndexSpec, req: SearchRequest): Record<string, unknown> {
  const searchable = index.fields.filter((f) => f.searchable);
  const query = req.q.trim()
    ? { simple_query_string: { query: req.q, fields: searchable.map((f) => (f.boost === 1 ? f.name : `${f.name}^${f.boost}`)), default_operator: 'and', lenient: true } }
    : { match_all: {} };
  return {
    query,
    size: req.size,
    from: req.from,
    track_total_hits: true,
    highlight: req.q.trim()
      ? { fields: Object.fromEntries(searchable.filter((f) => f.type === 'text').map((f) => [f.name, {}])), pre_tags: ['<mark>'], post_tags: ['</mark>'] }
      : undefined,
  };
}

export class EsSearchBackend implements SearchBackend {
  constructor(private readonly es: Client, private readonly timeoutMs: number) {}

  async search(index: IndexSpec, req: SearchRequest): Promise<SearchResult> {
    try {
      const res = await this.es.search<Record<string, unknown>>(
        { index: index.name, timeout: `${this.timeoutMs}ms`, ...buildSearchBody(index, req) },
        { requestTimeout: this.timeoutMs + 1000 },
      );
      const total = res.hits.total;
      return {
        total: typeof total === 'number' ? total : total?.value ?? 0,
        totalRelation: typeof total === 'object' && total.relation === 'gte' ? 'gte' : 'eq',
        tookMs: res.took,
        hits: res.hits.hits.map((h) => ({ id: h._id ?? '', score: h._score ?? null, document: h._source ?? {}, ...(h.highlight ? { highlight: h.highlight } : {}) })),
      };
    } catch (err) {
      const meta = (err as { meta?: { statusCode?: number; body?: { error?: { type?: string } } } }).meta;
      if (meta?.body?.error?.type === 'index_not_found_exception') {
        throw new ApiError(503, 'INDEX_NOT_READY', `index ${index.name} has not been created yet; the indexer creates it when it starts`);
      }
      throw new ApiError(503, 'SEARCH_UNAVAILABLE', 'the search engine did not answer; retry shortly');
    }
  }

  async ready(): Promise<boolean> {
    try {
      await this.es.cluster.health({ timeout: '2s' });
      return true;
    } catch {
      return false;
    }
  }
}
