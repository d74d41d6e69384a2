import type { default as Router, RouterContext } from '@koa/router';
import type { PipelineConfig } from '../../config/pipeline';
import { badRequest } from '../errors';
import { requestParams, resolveIndex } from '../http/request';
import { CursorCodec, hashRequest } from '../search/cursor';
import { SEARCH_PARAMS, parseSearch } from '../search/search-params';
import { SUGGEST_PARAMS, parseSuggest } from '../search/suggest';
import type { SearchBackend, SearchRequest } from '../search/search-backend';

export interface SearchRouteDeps {
  pipeline: PipelineConfig;
  search: SearchBackend;
  cursors: CursorCodec;
  maxBodyBytes: number;
}

/** Elasticsearch's own limit on _id, in UTF-8 bytes. */
const MAX_ID_BYTES = 512;

/** GET/POST /v1/indexes/:index/search, GET …/suggest and GET …/documents/:id. */
export function searchRoutes(router: Router, deps: SearchRouteDeps): void {
  const search = async (ctx: RouterContext) => {
    const index = resolveIndex(deps.pipeline, ctx.params.index);
    const params = await requestParams(ctx, SEARCH_PARAMS, deps.maxBodyBytes);
    const parsed = parseSearch(index, params);
    const queryHash = hashRequest(parsed.identity);
    let cursor: SearchRequest['cursor'];
    if (parsed.cursor === 'start') cursor = 'start';
    else if (parsed.cursor) {
      const { pitId, searchAfter } = deps.cursors.decode(parsed.cursor, queryHash);
      cursor = { pitId, searchAfter };
    }
    const result = await deps.search.search(index, { ...parsed.request, ...(cursor ? { cursor } : {}) });
    const { next, ...rest } = result;
    ctx.body = {
      index: index.name,
      q: parsed.request.q,
      ...(cursor ? {} : { page: parsed.page }),
      size: parsed.request.size,
      ...rest,
      ...(cursor ? { cursor: next ? deps.cursors.encode({ ...next, queryHash }) : null } : {}),
    };
  };
  router.get('/v1/indexes/:index/search', search);
  router.post('/v1/indexes/:index/search', search);

  router.get('/v1/indexes/:index/suggest', async (ctx) => {
    const index = resolveIndex(deps.pipeline, ctx.params.index);
    const req = parseSuggest(index, await requestParams(ctx, SUGGEST_PARAMS, deps.maxBodyBytes));
    ctx.body = { index: index.name, q: req.q, field: req.field, suggestions: await deps.search.suggest(index, req) };
  });

  router.get('/v1/indexes/:index/documents/:id', async (ctx) => {
    const index = resolveIndex(deps.pipeline, ctx.params.index);
    const id = String(ctx.params.id);
    if (Buffer.byteLength(id) > MAX_ID_BYTES || /[\u0000-\u001f]/.test(id)) throw badRequest('ID_INVALID', `id must be at most ${MAX_ID_BYTES} bytes (UTF-8) without control characters`);
    const document = await deps.search.getDocument(index, id);
    if (!document) {
      ctx.status = 404;
      ctx.body = { error: { code: 'DOCUMENT_NOT_FOUND', message: `no document ${JSON.stringify(id.slice(0, 100))} in ${index.name}; it may not be indexed yet` } };
      return;
    }
    ctx.body = { index: index.name, id, document };
  });
}
