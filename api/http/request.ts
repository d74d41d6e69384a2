import type { Context } from 'koa';
import type { IndexSpec, PipelineConfig } from '../../config/pipeline';
import { findIndex } from '../../config/pipeline';
import { ApiError, badRequest } from '../errors';
import { readJsonBody } from './body';
import { Params, type ParamKinds } from './params';
import { checkQueryStringUtf8 } from './query-string';

/**
 * GET reads the query string; POST reads a JSON body of the same parameters (for long filters
 * and clients that prefer bodies), plus the query string. A name given in both is an error,
 * like a name repeated in the query string.
 */
export async function requestParams(ctx: Context, kinds: ParamKinds, maxBodyBytes: number): Promise<Params> {
  checkQueryStringUtf8(ctx.querystring);
  const query: Record<string, unknown> = { ...ctx.query };
  if (ctx.method !== 'POST') return new Params(query, kinds);
  const body = await readJsonBody(ctx, maxBodyBytes);
  for (const [name, value] of Object.entries(body)) {
    if (name in query) throw badRequest('PARAM_REPEATED', `${name} is given both in the query string and in the body; give it once`);
    checkJsonType(name, value, kinds[name]);
  }
  return new Params({ ...query, ...body }, kinds);
}

/** A JSON body is typed: `"size": "5"` or `"q": 5` is a mistake worth naming, as the OpenAPI document says. */
function checkJsonType(name: string, value: unknown, kind: ParamKinds[string] | undefined): void {
  if (kind === undefined || value === undefined || value === null || Array.isArray(value) || typeof value === 'object') return; // Params explains these
  const ok = kind === 'integer' ? typeof value === 'number' : typeof value === kind;
  if (!ok) throw badRequest('PARAM_INVALID', `${name} must be a JSON ${kind === 'integer' ? 'whole number' : kind}, not ${JSON.stringify(value).slice(0, 40)}`);
}

/** Only indexes of the pipeline config are reachable: `*`, `_all` or `/_cluster` never reach Elasticsearch. */
export function resolveIndex(pipeline: PipelineConfig, name: unknown): IndexSpec {
  const index = typeof name === 'string' ? findIndex(pipeline, name) : undefined;
  if (!index) {
    throw new ApiError(404, 'INDEX_NOT_FOUND', `no index named ${JSON.stringify(String(name).slice(0, 100))}; known indexes: ${pipeline.indexes.map((i) => i.name).join(', ')}`);
  }
  return index;
}
