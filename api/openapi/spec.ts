import { SEARCH_PAGE_PATH, SEARCH_PAGE_SCRIPT, SEARCH_PAGE_STYLE } from '../ui/paths';
import type { IndexSpec, PipelineConfig } from '../../config/pipeline';
import { ANALYTICS_PARAMS, MAX_GROUP_SIZE } from '../analytics/analytics-params';
import { CONSISTENCY_PARAMS } from '../freshness/read-your-writes';
import { fieldPaths } from '../search/field-paths';
import { MAX_FACET_SIZE, MAX_SIZE, MAX_WINDOW, SEARCH_PARAMS } from '../search/search-params';
import { MAX_SUGGEST_SIZE, SUGGEST_PARAMS } from '../search/suggest';

/**
 * The OpenAPI 3 description of every route, built from the pipeline config so the index names
 * are an enum. `openapi.test.ts` keeps it and the router in step.
 */
type Schema = Record<string, unknown>;

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const int = (description: string, minimum: number, maximum: number, dflt?: number): Schema => ({ type: 'integer', description, minimum, maximum, ...(dflt === undefined ? {} : { default: dflt }) });
const bool = (description: string, dflt: boolean): Schema => ({ type: 'boolean', description, default: dflt });

// Read-your-writes, on search, analytics and document lookups.
const CONSISTENCY_FIELDS: Record<keyof typeof CONSISTENCY_PARAMS, Schema> = {
  minLsn: str('Commit LSN (decimal) of your own write: the answer waits (bounded) until the index has reached it, else says stale: true.', { pattern: '^([0-9]{1,20})?$' }),
  consistency: str('The consistency token POST /v1/events returned: the answer waits (bounded) until the index includes those events, else says stale: true.'),
};

const SEARCH_FIELDS: Record<keyof typeof SEARCH_PARAMS, Schema> = {
  q: str('Words to find in the searchable fields (boosted per the pipeline config). Operators: + | - "phrase" (group) and a trailing * (zel*).', { maxLength: 1000 }),
  filter: str('Clauses separated by spaces, all must hold: field:a,b (one of), field:1990..1999 (range), -field:x (exclude), field:"with space". Fields of related tables by their path (customer.country:fr); clauses on one nested relation hold within one of its objects (items.product.category:toys items.qty:2..), a negated one excludes documents having any such object.'),
  facets: str('Comma-separated facetable fields (or paths, e.g. customer.country) to count values of; each value counts documents, also for nested relations. A filter on a requested facet does not narrow that facet’s own counts (refinement lists).'),
  facetSize: int('Values per facet.', 1, MAX_FACET_SIZE, 10),
  sort: str('Comma-separated sortable fields or paths, - for descending, relevance for score (e.g. -year,title). A nested relation\'s field sorts by its smallest value (largest descending). Default: relevance.'),
  highlight: bool('Return highlighted fragments of matching text fields: HTML, the document text escaped, only the <mark> tags live.', true),
  fuzzy: bool('Typo tolerance for queries without operators.', true),
  page: int('Page number; page × size may not pass 10,000 (use cursor beyond).', 1, MAX_WINDOW, 1),
  size: int('Hits per page.', 0, MAX_SIZE, 10),
  cursor: str('start to begin cursor paging, then the cursor value of the previous response (same q, filter, sort).'),
  ...CONSISTENCY_FIELDS,
};

const SUGGEST_FIELDS: Record<keyof typeof SUGGEST_PARAMS, Schema> = {
  q: str('What was typed so far; every word must match, the last one as a prefix.', { minLength: 1, maxLength: 100 }),
  size: int('Suggestions to return.', 1, MAX_SUGGEST_SIZE, 5),
  filter: SEARCH_FIELDS.filter,
};

const ANALYTICS_FIELDS: Record<keyof typeof ANALYTICS_PARAMS, Schema> = {
  filter: SEARCH_FIELDS.filter,
  metrics: str('Comma-separated: count, sum(f), avg(f), min(f), max(f), percentiles(f), cardinality(f); f may be a path (sum(items.qty)). Default: count.'),
  groupBy: str('Comma-separated (up to 3): field (terms), numericField:10 (histogram), dateField:month or dateField:6h (date histogram). Paths too (customer.country); groups on a nested relation\'s field count documents, and all groups of a request must lie in the same relation.'),
  groupSize: int('Buckets per terms group, or per composite page.', 1, MAX_GROUP_SIZE, 10),
  ranges: str('With one groupBy field: ..1990,1990..2000,2000.. (from ≤ x < to).'),
  timeField: str('Date field (or path) of the time range (default: the only date field of the root table).'),
  from: str('Start of the time range (inclusive), e.g. 1990 or 1990-06-01T00:00:00Z.'),
  to: str('End of the time range (inclusive).'),
  timeZone: str('Time zone of date buckets: an IANA name (Europe/Paris) or an offset (+02:00).'),
  composite: bool('Page through every group (sorted by key) with after.', false),
  after: str('The after value of the previous composite page.'),
  percents: str('Comma-separated percentiles for percentiles(f). Default: 50,90,95,99.'),
  percentilesMethod: { type: 'string', pattern: '^(tdigest|hdr)?$', description: 'tdigest (default: error in rank, worst near the median, can be far off on skewed values) or hdr (HDR histogram: within 0.1 % of the exact value; values must be ≥ 0).' },
  compression: int('t-digest compression of percentiles(f): higher is more accurate and uses more memory.', 20, 5000, 100),
  // A pattern, not an enum: an empty value means "not given" (see Params).
  format: { type: 'string', pattern: '^(json|csv)?$', description: 'json or csv; Accept: text/csv also selects CSV. Default: json.' },
  ...CONSISTENCY_FIELDS,
};

function queryParams(fields: Record<string, Schema>): Schema[] {
  return Object.entries(fields).map(([name, schema]) => ({ name, in: 'query', required: false, schema, description: schema.description }));
}

function bodySchema(fields: Record<string, Schema>): Schema {
  return { type: 'object', additionalProperties: false, properties: fields };
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const ERRORS = { '400': errorResponse('The request is invalid; the message says what to change.'), '404': errorResponse('No such index (or route).'), '503': errorResponse('Elasticsearch is not available.') };
const BODY_ERRORS = { ...ERRORS, '413': errorResponse('The body is too large.'), '415': errorResponse('The body is not JSON or uses an unknown encoding.') };
const EXACT = { type: 'object', additionalProperties: { type: 'boolean', enum: [false] }, description: 'Metrics (sum, avg, min, max) whose value lies beyond ±2^53 and may have lost precision, each false; absent when every value is exact.' };
const SYNONYMS = {
  type: 'object',
  required: ['index', 'rules'],
  properties: {
    index: { type: 'string' },
    rules: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 500 }, description: '"laptop, notebook" (each finds the others) or "tv, telly => television" (tv and telly also find television).' },
  },
};
const json = (schema: Schema) => ({ 'application/json': { schema } });
const header = (description: string, schema: Schema = { type: 'string' }) => ({ description, schema });
const FRESHNESS_HEADERS = {
  'X-Cache': header('hit (from the result cache, or joined an identical request in flight), miss (computed now) or bypass (never cached: cursor pages, documents).', { type: 'string', enum: ['hit', 'miss', 'bypass'] }),
  'X-As-Of-Lsn': header('The index\'s freshness watermark (decimal commit LSN) the answer reflects; absent when the index has none.'),
  'X-Stale': header('true when minLsn/consistency was given and the index had not reached it within the wait bound.', { type: 'string', enum: ['true', 'false'] }),
};
const CACHED_HEADERS = { ...FRESHNESS_HEADERS, ETag: header('Validator of the cached answer; send it back as If-None-Match for a 304.'), 'Cache-Control': header('private, no-cache: keep it, but revalidate.') };
const NOT_MODIFIED = { '304': { description: 'Not modified: If-None-Match matched the current answer\'s ETag (no Elasticsearch query).', headers: CACHED_HEADERS } };

/**
 * With API keys on (API_AUTH=keys) every /v1 operation needs a key and may answer 401, 403 and
 * 429; the probes and this document stay open (/metrics takes its own token). With auth off none of that is said, as
 * none of it can happen.
 */
const AUTH_ERRORS = {
  '401': errorResponse('No API key, or one that is malformed, unknown or revoked (send Authorization: Bearer <key> or X-API-Key).'),
  '403': errorResponse('The API key lacks the scope this route needs (search, analytics, or admin for synonyms).'),
  '429': { ...errorResponse('The API key is over its rate limit.'), headers: { 'Retry-After': header('Seconds to wait before retrying.', { type: 'integer', minimum: 1 }) } },
};
const SECURITY_SCHEMES = {
  bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key from `npm run api-keys -- create` (spk_…); it decides the tenant whose documents are visible.' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same key in a header of its own.' },
};

/** Adds the security requirement and the auth error answers to every operation under /v1. */
function withAuth(paths: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith('/v1/')) {
      out[path] = item;
      continue;
    }
    out[path] = Object.fromEntries(
      Object.entries(item).map(([k, op]) => {
        if (!['get', 'post', 'put'].includes(k)) return [k, op];
        const o = op as { responses: Record<string, unknown> };
        return [k, { ...o, security: [{ bearerAuth: [] }, { apiKeyHeader: [] }], responses: { ...o.responses, ...AUTH_ERRORS } }];
      }),
    );
  }
  return out;
}

export function buildOpenApi(pipeline: PipelineConfig, opts: { auth?: boolean; searchPage?: boolean } = {}): Schema {
  const doc = buildPaths(pipeline, opts);
  if (!opts.auth) return doc;
  return { ...doc, paths: withAuth(doc.paths as Record<string, Record<string, unknown>>), components: { ...(doc.components as Schema), securitySchemes: SECURITY_SCHEMES } };
}

/**
 * Each index's fields by the path parameters name them with, and what each may be used for: the
 * config decides, and joined documents make the list long enough to need writing down.
 */
function indexFields(pipeline: PipelineConfig): string {
  const uses = (f: ReturnType<typeof fieldPaths>[number]) => (['searchable', 'filterable', 'facetable', 'sortable'] as const).filter((k) => f.spec[k]).join(', ');
  const of = (index: IndexSpec) => fieldPaths(index).map((f) => `${f.path} (${f.spec.type}${uses(f) ? `; ${uses(f)}` : ''}${f.nested.length ? `; nested in ${f.nested[f.nested.length - 1]}` : ''})`).join(', ');
  return `An index of the pipeline config. Its fields, by the paths the parameters take: ${pipeline.indexes.map((i) => `${i.name}: ${of(i)}`).join('. ')}.`;
}

/**
 * A comma-separated list of the pipeline's index names, as a pattern generators can fill in.
 * Index names hold only a-z, 0-9, _ and - (config/pipeline-schema.ts), none special in a pattern.
 */
function indexListPattern(pipeline: PipelineConfig): string {
  const one = `(${pipeline.indexes.map((i) => i.name).join('|')})`;
  return `^${one}(,${one}){0,19}$`;
}

function buildPaths(pipeline: PipelineConfig, opts: { searchPage?: boolean }): Schema {
  const indexParam = { name: 'index', in: 'path', required: true, description: indexFields(pipeline), schema: { type: 'string', enum: pipeline.indexes.map((i) => i.name) } };
  const search = { summary: 'Full-text search', tags: ['search'], responses: { '200': { description: 'Hits', headers: CACHED_HEADERS, content: json({ $ref: '#/components/schemas/SearchResponse' }) }, ...ERRORS } };
  const analytics = {
    summary: 'Metrics, optionally grouped',
    tags: ['analytics'],
    responses: { '200': { description: 'Metrics and groups', headers: CACHED_HEADERS, content: { ...json({ $ref: '#/components/schemas/AnalyticsResponse' }), 'text/csv': { schema: { type: 'string' } } } }, ...ERRORS },
  };
  const text = (description: string, type: string) => ({ responses: { '200': { description, content: { [type]: { schema: { type: 'string' } } } } } });
  return {
    openapi: '3.0.3',
    info: { title: 'search-pipeline API', version: '1', description: 'Search and analytics over the indexes of the pipeline config. Errors are {"error": {"code", "message"}}.' },
    paths: {
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'Alive', content: json({ type: 'object', properties: { status: { type: 'string' } }, required: ['status'] }) } } } },
      '/readyz': { get: { summary: 'Readiness: Elasticsearch answers and, with API keys, Redis; a 503 names what failed and carries Retry-After', responses: { '200': { description: 'Ready', content: json({ type: 'object' }) }, '503': errorResponse('Not ready') } } },
      // 401 with API keys on and no token, or with API_METRICS_TOKEN set and a missing or wrong token.
      '/metrics': { get: { summary: 'Prometheus metrics (Authorization: Bearer <API_METRICS_TOKEN> when one is set)', responses: { ...text('Metrics', 'text/plain').responses, '401': errorResponse('A metrics token is needed: send Authorization: Bearer <API_METRICS_TOKEN> (and with API keys on, set one).') } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3', content: json({ type: 'object' }) } } } },
      '/docs': { get: { summary: 'A page to try requests in a browser', ...text('HTML', 'text/html') } },
      ...(opts.searchPage
        ? {
            [SEARCH_PAGE_PATH]: { get: { summary: 'The search page (API_SEARCH_PAGE; with API keys on, open it as /ui#key=<browser key>)', ...text('HTML', 'text/html') } },
            [SEARCH_PAGE_SCRIPT]: { get: { summary: 'The search page\'s script (InstantSearch.js, bundled)', ...text('JavaScript', 'text/javascript') } },
            [SEARCH_PAGE_STYLE]: { get: { summary: 'The search page\'s style sheet', ...text('CSS', 'text/css') } },
          }
        : {}),
      '/v1/indexes/{index}/search': {
        parameters: [indexParam],
        get: { ...search, operationId: 'search', parameters: queryParams(SEARCH_FIELDS), responses: { ...search.responses, ...NOT_MODIFIED } },
        post: { ...search, operationId: 'searchPost', requestBody: { required: false, content: json(bodySchema(SEARCH_FIELDS)) }, responses: { ...search.responses, ...BODY_ERRORS } },
      },
      '/v1/indexes/{index}/suggest': {
        parameters: [indexParam],
        get: {
          summary: 'Suggestions while typing: values of the suggestion field that start with q, the most popular first (docs/search.md)',
          tags: ['search'],
          operationId: 'suggest',
          parameters: queryParams(SUGGEST_FIELDS).map((p) => (p.name === 'q' ? { ...p, required: true } : p)),
          responses: { '200': { description: 'Suggestions', content: json({ $ref: '#/components/schemas/SuggestResponse' }) }, ...ERRORS },
        },
      },
      '/v1/indexes/{index}/documents/{id}': {
        parameters: [indexParam, { name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 512 } }],
        get: {
          summary: 'One document by id',
          tags: ['search'],
          operationId: 'getDocument',
          parameters: queryParams(CONSISTENCY_FIELDS),
          responses: { '200': { description: 'The document', headers: FRESHNESS_HEADERS, content: json({ $ref: '#/components/schemas/DocumentResponse' }) }, ...ERRORS },
        },
      },
      '/v1/indexes/{index}/analytics': {
        parameters: [indexParam],
        get: { ...analytics, operationId: 'analytics', parameters: queryParams(ANALYTICS_FIELDS), responses: { ...analytics.responses, ...NOT_MODIFIED } },
        post: { ...analytics, operationId: 'analyticsPost', requestBody: { required: false, content: json(bodySchema(ANALYTICS_FIELDS)) }, responses: { ...analytics.responses, ...BODY_ERRORS } },
      },
      '/v1/browser-keys': {
        post: {
          summary: 'Mint a short-lived browser key (search scope, the caller\'s tenant, the indexes and filter given); needs API_AUTH=keys and API_BROWSER_KEY_SECRET',
          tags: ['search'],
          operationId: 'mintBrowserKey',
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              additionalProperties: false,
              required: ['indexes'],
              properties: {
                indexes: { type: 'string', pattern: indexListPattern(pipeline), description: 'Comma-separated indexes the key may search (at most 20).' },
                filter: { type: 'string', maxLength: 1000, description: 'Filter (the search filter syntax) ANDed with every query the key makes; it must apply to each index.' },
                expiresInS: { type: 'integer', minimum: 1, description: 'Lifetime in seconds, at most API_BROWSER_KEY_MAX_TTL_S. Default: 900 (or that maximum if lower).' },
              },
            }),
          },
          responses: {
            '201': { description: 'The key (shown once) and what it allows', content: json({ $ref: '#/components/schemas/BrowserKeyResponse' }) },
            ...BODY_ERRORS,
            '404': errorResponse('No such index, or browser keys are off (BROWSER_KEYS_DISABLED: set API_AUTH=keys and API_BROWSER_KEY_SECRET).'),
            '409': errorResponse('API_AUTH=off: there is no key to mint from.'),
          },
        },
      },
      '/v1/indexes/{index}/synonyms': {
        parameters: [indexParam],
        get: { summary: 'The index’s query-time synonym rules (admin scope)', tags: ['admin'], operationId: 'getSynonyms', responses: { '200': { description: 'The rules', content: json(SYNONYMS) }, ...ERRORS } },
        put: {
          summary: 'Replace the index’s synonym rules (admin scope); searches use them at once, no reindex',
          tags: ['admin'],
          operationId: 'putSynonyms',
          requestBody: { required: true, content: json({ type: 'object', additionalProperties: false, required: ['rules'], properties: { rules: SYNONYMS.properties.rules } }) },
          responses: { '200': { description: 'The rules now in use', content: json(SYNONYMS) }, ...BODY_ERRORS },
        },
      },
    },
    components: { schemas: SCHEMAS },
  };
}

// Untyped on purpose: OpenAPI 3.0 cannot say "string, number, boolean or null" without oneOf, which
// validators then read as "exactly one" and `nullable` does not reach inside.
const scalar = { description: 'A string, number, boolean or null.' };
const metricValue = { description: 'A number, a date string (min/max of dates), null (no values) or, for percentiles, an object of percent → value.' };

// Added to every search, analytics and document answer (api/cache/respond.ts).
const FRESHNESS_REQUIRED = ['asOf', 'stale', 'cache'];
const FRESHNESS_PROPS = {
  asOf: {
    type: 'object',
    required: ['lsn', 'ageMs'],
    description: 'The index\'s freshness watermark the answer reflects: every change committed up to lsn is included. Null when the index publishes none.',
    properties: { lsn: { type: 'string', nullable: true, description: 'Decimal commit LSN.' }, ageMs: { type: 'integer', nullable: true, description: 'Time since that commit, ms.' } },
  },
  stale: { type: 'boolean', description: 'true when minLsn/consistency was given and the index had not reached it within the wait bound.' },
  cache: { type: 'string', enum: ['hit', 'miss', 'bypass'], description: 'As the X-Cache header.' },
};

const SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
  },
  SearchResponse: {
    type: 'object',
    required: ['index', 'q', 'size', 'total', 'totalRelation', 'tookMs', 'hits', ...FRESHNESS_REQUIRED],
    properties: {
      ...FRESHNESS_PROPS,
      index: { type: 'string' },
      q: { type: 'string' },
      page: { type: 'integer' },
      size: { type: 'integer' },
      total: { type: 'integer' },
      totalRelation: { type: 'string', enum: ['eq', 'gte'] },
      tookMs: { type: 'integer' },
      hits: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'score', 'document'],
          properties: { id: { type: 'string' }, score: { type: 'number', nullable: true }, document: { type: 'object' }, highlight: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } },
        },
      },
      facets: { type: 'object', additionalProperties: { type: 'array', items: { type: 'object', required: ['value', 'count'], properties: { value: scalar, count: { type: 'integer' } } } } },
      cursor: { type: 'string', nullable: true, description: 'Pass as cursor for the next page; null after the last page.' },
    },
  },
  SuggestResponse: {
    type: 'object',
    required: ['index', 'q', 'field', 'suggestions'],
    properties: { index: { type: 'string' }, q: { type: 'string' }, field: { type: 'string' }, suggestions: { type: 'array', items: { type: 'string' } } },
  },
  BrowserKeyResponse: {
    type: 'object',
    required: ['key', 'parent', 'tenant', 'indexes', 'filter', 'scopes', 'expiresAt'],
    properties: {
      key: { type: 'string', description: 'spb_…: send it as Authorization: Bearer <key> (or X-API-Key) from the page.' },
      parent: { type: 'string', description: 'Id of the API key it was minted from; revoking that key revokes this one.' },
      tenant: { type: 'string' },
      indexes: { type: 'array', items: { type: 'string' } },
      filter: { type: 'string', nullable: true },
      scopes: { type: 'array', items: { type: 'string', enum: ['search'] } },
      expiresAt: { type: 'string', format: 'date-time' },
    },
  },
  DocumentResponse: { type: 'object', required: ['index', 'id', 'document', ...FRESHNESS_REQUIRED], properties: { ...FRESHNESS_PROPS, index: { type: 'string' }, id: { type: 'string' }, document: { type: 'object' } } },
  AnalyticsResponse: {
    type: 'object',
    required: ['index', 'tookMs', 'total', 'metrics', ...FRESHNESS_REQUIRED],
    properties: {
      ...FRESHNESS_PROPS,
      index: { type: 'string' },
      tookMs: { type: 'integer' },
      total: { type: 'integer' },
      metrics: { type: 'object', additionalProperties: metricValue },
      exact: EXACT,
      groups: {
        type: 'array',
        items: {
          type: 'object',
          required: ['key', 'count', 'metrics'],
          properties: { key: { type: 'object', additionalProperties: scalar }, count: { type: 'integer' }, metrics: { type: 'object', additionalProperties: metricValue }, exact: EXACT },
        },
      },
      after: { type: 'string', nullable: true, description: 'Composite paging: pass as after for the next page; null on the last page.' },
    },
  },
};
