import type Router from '@koa/router';
import type { PipelineConfig } from '../../config/pipeline';
import { findIndex } from '../../config/pipeline';
import { ApiError, badRequest } from '../errors';
import type { SearchBackend } from '../search/search-backend';

/** Elasticsearch refuses from + size beyond 10,000; deeper pages will use cursors. */
const MAX_WINDOW = 10_000;
const MAX_SIZE = 100;
const MAX_QUERY_CHARS = 1_000;

export function searchRoutes(router: Router, pipeline: PipelineConfig, backend: SearchBackend): void {
  router.get('/v1/indexes/:index/search', async (ctx) => {
    const index = findIndex(pipeline, String(ctx.params.index));
    if (!index) throw new ApiError(404, 'INDEX_NOT_FOUND', `no index named ${JSON.stringify(ctx.params.index)}; known indexes: ${pipeline.indexes.map((i) => i.name).join(', ')}`);
    const q = single(ctx.query.q, 'q') ?? '';
    if (q.length > MAX_QUERY_CHARS) throw badRequest('QUERY_TOO_LONG', `q is ${q.length} characters; at most ${MAX_QUERY_CHARS} are allowed`);
    if (/\u0000/.test(q)) throw badRequest('QUERY_INVALID', 'q contains a NUL character; remove it');
    const size = intParam(ctx.query.size, 'size', 10, 0, MAX_SIZE);
    const page = intParam(ctx.query.page, 'page', 1, 1, MAX_WINDOW);
    const from = (page - 1) * size;
    if (from + size > MAX_WINDOW) throw badRequest('PAGE_TOO_DEEP', `page ${page} with size ${size} reaches past result ${MAX_WINDOW}; narrow the query`);
    const result = await backend.search(index, { q, size, from });
    ctx.body = { index: index.name, q, page, size, ...result };
  });
}

function single(v: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(v)) throw badRequest('PARAM_REPEATED', `${name} is given ${v.length} times; give it once`);
  return v;
}

function intParam(v: string | string[] | undefined, name: string, fallback: number, min: number, max: number): number {
  const s = single(v, name);
  if (s === undefined || s === '') return fallback;
  if (!/^\d{1,9}$/.test(s)) throw badRequest('PARAM_INVALID', `${name} must be a whole number between ${min} and ${max}; got ${JSON.stringify(s.slice(0, 40))}`);
  const n = Number(s);
  if (n < min || n > max) throw badRequest('PARAM_OUT_OF_RANGE', `${name} must be between ${min} and ${max}; got ${n}`);
  return n;
}
