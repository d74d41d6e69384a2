import type { default as Router, RouterContext } from '@koa/router';
import type { PipelineConfig } from '../../config/pipeline';
import { principalOf } from '../auth/principal';
import { requireScope } from '../auth/middleware';
import { callerScoped } from '../auth/restriction-scope';
import { answer, send, type CacheDeps } from '../cache/respond';
import { badRequest } from '../errors';
import { readPoint, type FreshnessDeps } from '../freshness/read-context';
import { CONSISTENCY_PARAMS, parseRequirement } from '../freshness/read-your-writes';
import { Params } from '../http/params';
import { checkQueryStringUtf8 } from '../http/query-string';
import { requestParams, resolveIndex } from '../http/request';
import { CursorCodec, hashRequest } from '../search/cursor';
import { SEARCH_PARAMS, parseSearch } from '../search/search-params';
import { SUGGEST_PARAMS, parseSuggest } from '../search/suggest';
import type { SearchBackend, SearchRequest } from '../search/search-backend';
import type { SynonymCache } from '../synonyms/synonym-cache';

export interface SearchRouteDeps {
  pipeline: PipelineConfig;
  search: SearchBackend;
  cursors: CursorCodec;
  maxBodyBytes: number;
  cache: CacheDeps;
  freshness: FreshnessDeps;
  synonyms: SynonymCache;
}

/** Elasticsearch's own limit on _id, in UTF-8 bytes. */
const MAX_ID_BYTES = 512;

/** GET/POST /v1/indexes/:index/search, GET …/suggest and GET …/documents/:id. */
export function searchRoutes(router: Router, deps: SearchRouteDeps): void {
  const search = async (ctx: RouterContext) => {
    const index = resolveIndex(deps.pipeline, ctx.params.index);
    const params = await requestParams(ctx, SEARCH_PARAMS, deps.maxBodyBytes);
    const parsed = parseSearch(index, params);
    const { tenant, restriction } = principalOf(ctx);
    // The tenant (and a browser key's filter) join the query identity: a cursor opened by one
    // tenant is refused for another.
    const queryHash = hashRequest({ ...parsed.identity, tenant: tenant ?? null, ...(restriction?.filter ? { imposed: restriction.filter } : {}) });
    let cursor: SearchRequest['cursor'];
    if (parsed.cursor === 'start') cursor = 'start';
    else if (parsed.cursor) {
      const { pitId, searchAfter } = deps.cursors.decode(parsed.cursor, queryHash);
      cursor = { pitId, searchAfter };
    }
    const read = await readPoint(deps.freshness, index, parseRequirement(params));
    const synonyms = await deps.synonyms.get(index.name);
    await answer(ctx, deps.cache, {
      route: 'search',
      index,
      read,
      // Cursor pages read a point in time of their own and are never cached. Changed synonym
      // rules change answers without a data change, so their version joins the key.
      request: cursor ? undefined : { ...parsed.normalised, ...(synonyms.version ? { synonyms: synonyms.version } : {}) },
      compute: async () => {
        const result = await callerScoped(deps.search, principalOf(ctx)).search(index, { ...parsed.request, synonyms, ...(cursor ? { cursor } : {}) });
        const { next, ...rest } = result;
        const body = {
          index: index.name,
          q: parsed.request.q,
          ...(cursor ? {} : { page: parsed.page }),
          size: parsed.request.size,
          ...rest,
          ...(cursor ? { cursor: next ? deps.cursors.encode({ ...next, queryHash }) : null } : {}),
        };
        return { type: 'json', body };
      },
    });
  };
  router.get('/v1/indexes/:index/search', requireScope('search'), search);
  router.post('/v1/indexes/:index/search', requireScope('search'), search);

  router.get('/v1/indexes/:index/suggest', requireScope('search'), async (ctx) => {
    const index = resolveIndex(deps.pipeline, ctx.params.index);
    const req = parseSuggest(index, await requestParams(ctx, SUGGEST_PARAMS, deps.maxBodyBytes));
    ctx.body = { index: index.name, q: req.q, field: req.field, suggestions: await callerScoped(deps.search, principalOf(ctx)).suggest(index, req) };
  });

  router.get('/v1/indexes/:index/documents/:id', requireScope('search'), async (ctx) => {
    const index = resolveIndex(deps.pipeline, ctx.params.index);
    const id = String(ctx.params.id);
    // Ids are the rows' primary keys as the indexer writes them (core/change-event.ts documentId),
    // and a key may hold any character, control characters included: refusing those made such a
    // row searchable but impossible to look up. Only Elasticsearch's own limit applies.
    if (Buffer.byteLength(id) > MAX_ID_BYTES) throw badRequest('ID_INVALID', `id must be at most ${MAX_ID_BYTES} bytes (UTF-8), Elasticsearch's limit; no document has a longer one`);
    checkQueryStringUtf8(ctx.querystring);
    const read = await readPoint(deps.freshness, index, parseRequirement(new Params({ ...ctx.query }, CONSISTENCY_PARAMS)));
    // Another tenant's document is answered exactly like a missing one: its existence is not shown.
    const document = await callerScoped(deps.search, principalOf(ctx)).getDocument(index, id);
    if (!document) {
      ctx.status = 404;
      ctx.body = { error: { code: 'DOCUMENT_NOT_FOUND', message: `no document ${JSON.stringify(id.slice(0, 100))} in ${index.name}; it may not be indexed yet` } };
      return;
    }
    // A lookup by id is cheap and realtime in Elasticsearch: not cached, but it says its asOf too.
    deps.cache.onResponse?.('document', 'bypass');
    send(ctx, read, { type: 'application/json; charset=utf-8', body: JSON.stringify({ index: index.name, id, document }), headers: {} }, 'bypass');
  });
}
