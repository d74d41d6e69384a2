import type { default as Router } from '@koa/router';
import type { PipelineConfig } from '../../config/pipeline';
import { requireScope } from '../auth/middleware';
import { badRequest } from '../errors';
import { readJsonBody } from '../http/body';
import { checkQueryStringUtf8 } from '../http/query-string';
import { resolveIndex } from '../http/request';
import type { SynonymCache } from '../synonyms/synonym-cache';

export interface SynonymRouteDeps {
  pipeline: PipelineConfig;
  synonyms: SynonymCache;
  maxBodyBytes: number;
}

/**
 * GET|PUT /v1/indexes/:index/synonyms: an index's query-time synonym rules (synonyms/rules.ts).
 * Both need the `admin` scope: the rules change every tenant's results on the index. PUT replaces
 * the whole list (`{"rules": []}` clears it); searches use it at once, no reindex.
 */
export function synonymRoutes(router: Router, deps: SynonymRouteDeps): void {
  router.get('/v1/indexes/:index/synonyms', requireScope('admin'), async (ctx) => {
    const index = resolveIndex(deps.pipeline, ctx.params.index);
    checkQueryStringUtf8(ctx.querystring);
    ctx.body = { index: index.name, rules: (await deps.synonyms.get(index.name)).rules };
  });
  router.put('/v1/indexes/:index/synonyms', requireScope('admin'), async (ctx) => {
    const index = resolveIndex(deps.pipeline, ctx.params.index);
    const body = await readJsonBody(ctx, deps.maxBodyBytes);
    const extra = Object.keys(body).filter((k) => k !== 'rules');
    if (extra.length) throw badRequest('PARAM_UNKNOWN', `unknown field ${JSON.stringify(extra[0])}; the body is {"rules": ["tv => television", "laptop, notebook"]}`);
    if (!Array.isArray(body.rules)) throw badRequest('PARAM_MISSING', 'rules must be an array of rule strings, e.g. {"rules": ["tv => television", "laptop, notebook"]}');
    const compiled = await deps.synonyms.put(index.name, body.rules as unknown[]);
    ctx.body = { index: index.name, rules: compiled.rules };
  });
}
