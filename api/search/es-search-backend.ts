import type { Client } from '@elastic/elasticsearch';
import type { IndexSpec } from '../../config/pipeline';
import type { Logger } from '../../core/logger';
import { buildAnalyticsBody, parseAnalyticsResponse } from '../analytics/es-analytics';
import type { AnalyticsRequest, AnalyticsResult, FieldRange } from '../analytics/analytics-request';
import { ApiError } from '../errors';
import { esFilters } from './es-filters';
import { facetTermsAgg } from './facet-refinement';
import type { FilterClause } from './filter';
import { HIDDEN_SOURCE_PATTERNS } from './hidden-fields';
import { fromNested, inNested, ROOTS } from './nested';
import { buildSearchBody } from './query-builder';
import { mergeHighlights } from './text-query';
import { buildSuggestBody, type SuggestRequest } from './suggest';
import type { FacetBucket, FacetRequest, RangeField, SearchBackend, SearchRequest, SearchResult } from './search-backend';

export interface EsBackendOptions {
  timeoutMs: number;
  cursorKeepAliveS: number;
  /** Records how long each Elasticsearch call took (api_elasticsearch_seconds). */
  observe?: (operation: string, seconds: number, outcome: 'ok' | 'error') => void;
  log?: Logger;
}

type AnyBody = Record<string, unknown>;

/** The readiness check asks for less than a query may take: a load balancer polls it often. */
const READY_TIMEOUT_MS = 2_000;

/**
 * Transport options that bound a call as a whole. Without them a call waited for the client's
 * default 30 s per attempt, retried 3 times, so a paused Elasticsearch held a request (and
 * /readyz) for as long as it was paused. No retries: a timed-out attempt would only wait again,
 * and the caller gets a 503 with Retry-After instead. The signal is the request's deadline,
 * shared by its calls (cursor=start opens a point in time, then searches).
 */
function bounded(signal: AbortSignal, ms: number): { requestTimeout: number; maxRetries: number; signal: AbortSignal } {
  return { requestTimeout: ms, maxRetries: 0, signal };
}

/** The Elasticsearch adapter of the SearchBackend port: query bodies come from the pure builders. */
export class EsSearchBackend implements SearchBackend {
  constructor(private readonly es: Client, private readonly opts: EsBackendOptions) {}

  async search(index: IndexSpec, req: SearchRequest): Promise<SearchResult> {
    const keepAlive = `${this.opts.cursorKeepAliveS}s`;
    const opts = this.deadline();
    let pitId: string | undefined;
    if (req.cursor === 'start') {
      pitId = (await this.call('open_pit', () => this.es.openPointInTime({ index: index.name, keep_alive: keepAlive }, opts))).id;
    } else if (req.cursor) pitId = req.cursor.pitId;

    const body = buildSearchBody(index, req);
    // With a point in time the index is fixed by the PIT and must not be named again.
    const target = pitId ? { pit: { id: pitId, keep_alive: keepAlive } } : { index: index.name };
    const after = req.cursor && req.cursor !== 'start' ? { search_after: req.cursor.searchAfter } : {};
    const res = await this.call('search', () =>
      this.es.search<AnyBody>({ ...target, ...after, ...body, timeout: `${this.opts.timeoutMs}ms` } as never, opts),
    );
    const total = res.hits.total;
    const hits = res.hits.hits;
    const result: SearchResult = {
      total: typeof total === 'number' ? total : (total?.value ?? 0),
      totalRelation: typeof total === 'object' && total.relation === 'gte' ? 'gte' : 'eq',
      tookMs: res.took,
      hits: hits.map((h) => {
        const highlight = mergeHighlights(h.highlight, h.inner_hits as never);
        return { id: h._id ?? '', score: h._score ?? null, document: h._source ?? {}, ...(highlight ? { highlight } : {}) };
      }),
    };
    if (req.facets.length) result.facets = Object.fromEntries(req.facets.map((f) => [f.field, facetBuckets(f, facetTermsAgg(res.aggregations?.[f.field]))]));
    if (pitId) {
      const last = hits[hits.length - 1];
      const newPit = res.pit_id ?? pitId;
      if (last?.sort && hits.length === req.size) result.next = { pitId: newPit, searchAfter: last.sort };
      else void this.es.closePointInTime({ id: newPit }, this.deadline()).catch(() => undefined); // last page: free the PIT now
    }
    return result;
  }

  async getDocument(index: IndexSpec, id: string): Promise<Record<string, unknown> | undefined> {
    const res = await this.call('get', () => this.es.get<AnyBody>({ index: index.name, id, _source_excludes: [...HIDDEN_SOURCE_PATTERNS] }, { ignore: [404], ...this.deadline() }));
    return res.found ? (res._source ?? {}) : undefined;
  }

  async suggest(index: IndexSpec, req: SuggestRequest): Promise<string[]> {
    const res = await this.call('suggest', () => this.es.search<AnyBody>({ index: index.name, ...buildSuggestBody(req), timeout: `${this.opts.timeoutMs}ms` } as never, this.deadline()));
    const values = res.hits.hits.map((h) => h._source?.[req.field]).filter((v): v is string => typeof v === 'string');
    return [...new Set(values)];
  }

  async fieldRange(index: IndexSpec, field: RangeField, filters: FilterClause[]): Promise<FieldRange> {
    const { filter, must_not } = esFilters(filters);
    // A nested relation's values are in its objects: min and max step into them.
    const chain = field.nested ?? [];
    const aggs = { min: inNested(chain, { min: { field: field.esField } }), max: inNested(chain, { max: { field: field.esField } }) };
    const res = await this.call('field_range', () =>
      this.es.search({ index: index.name, size: 0, query: { bool: { filter, must_not } } as never, aggs: aggs as never, timeout: `${this.opts.timeoutMs}ms` }, this.deadline()),
    );
    const value = (name: 'min' | 'max') => (fromNested(chain, res.aggregations?.[name]) as { value?: number | null } | undefined)?.value ?? null;
    return { min: value('min'), max: value('max') };
  }

  async analytics(index: IndexSpec, req: AnalyticsRequest): Promise<AnalyticsResult> {
    const body = buildAnalyticsBody(req);
    const res = await this.call('analytics', () => this.es.search({ index: index.name, ...body, timeout: `${this.opts.timeoutMs}ms` } as never, this.deadline()));
    return parseAnalyticsResponse(req, res as never);
  }

  async ready(): Promise<boolean> {
    try {
      const ms = Math.min(READY_TIMEOUT_MS, this.opts.timeoutMs);
      await this.es.cluster.health({ timeout: `${ms}ms` }, bounded(AbortSignal.timeout(ms), ms));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * One request's bound: Elasticsearch's own `timeout` (set in each body) stops the search there,
   * and the client gives up a second later, when an answer that took the whole time has had its
   * chance to arrive; a hung node or network then costs at most that.
   */
  private deadline(): ReturnType<typeof bounded> {
    const ms = this.opts.timeoutMs + 1000;
    return bounded(AbortSignal.timeout(ms), ms);
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let outcome: 'ok' | 'error' = 'ok';
    try {
      return await fn();
    } catch (err) {
      outcome = 'error';
      throw this.translate(operation, err);
    } finally {
      this.opts.observe?.(operation, Number(process.hrtime.bigint() - start) / 1e9, outcome);
    }
  }

  /** Elasticsearch failures → the API's error shape; internals stay in the log. */
  private translate(operation: string, err: unknown): ApiError {
    const meta = (err as { meta?: { statusCode?: number; body?: { error?: { type?: string; root_cause?: Array<{ type?: string }>; caused_by?: { type?: string } } } } }).meta;
    const error = meta?.body?.error;
    const types = [error?.type, error?.caused_by?.type, ...(error?.root_cause ?? []).map((c) => c.type)];
    if (types.includes('index_not_found_exception')) {
      return new ApiError(503, 'INDEX_NOT_READY', 'the index has not been created yet; the indexer creates it when it starts');
    }
    if (types.includes('search_context_missing_exception')) {
      return new ApiError(400, 'CURSOR_EXPIRED', `the cursor expired (${this.opts.cursorKeepAliveS} s between pages at most); start again with cursor=start`);
    }
    this.opts.log?.warn('elasticsearch call failed', { operation, status: meta?.statusCode, types, err });
    if (meta?.statusCode === 400) return new ApiError(400, 'QUERY_REJECTED', 'the search engine rejected this request; simplify the query or filters');
    if (meta?.statusCode === 429) return new ApiError(503, 'SEARCH_BUSY', 'the search engine is busy; retry shortly');
    return new ApiError(503, 'SEARCH_UNAVAILABLE', 'the search engine did not answer; retry shortly');
  }
}

function facetBuckets(f: FacetRequest, agg: unknown): FacetBucket[] {
  type Bucket = { key: string | number; key_as_string?: string; doc_count: number; [ROOTS]?: { doc_count: number } };
  const nested = f.nested ?? [];
  const buckets = (fromNested(nested, agg) as { buckets?: Bucket[] } | undefined)?.buckets ?? [];
  // A nested relation's values count roots (facet-refinement.ts facetAgg), not objects.
  const count = (b: Bucket) => (nested.length ? (b[ROOTS]?.doc_count ?? 0) : b.doc_count);
  // Booleans come back as 1/0 and dates as epoch millis; key_as_string holds the readable form.
  const value = (b: { key: string | number; key_as_string?: string }) => (b.key_as_string === undefined ? b.key : b.key_as_string === 'true' || b.key_as_string === 'false' ? b.key_as_string === 'true' : b.key_as_string);
  return buckets.map((b) => ({ value: value(b), count: count(b) }));
}
