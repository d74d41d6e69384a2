import type Router from '@koa/router';
import type { Context } from 'koa';
import type { PipelineConfig } from '../../config/pipeline';
import type { SearchPageAssets } from './bundle';
import { inertJson, pageConfig } from './page-config';
import { SEARCH_PAGE_PATH, SEARCH_PAGE_SCRIPT, SEARCH_PAGE_STYLE } from './paths';

export type { SearchPageAssets } from './bundle';

/**
 * Only this origin's script, style and API: a document's text that slipped into markup still
 * could not run, and no other site may frame the page.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** GET /ui (API_SEARCH_PAGE): the search page, its script and its style. */
export function searchPageRoutes(router: Router, pipeline: PipelineConfig, assets: SearchPageAssets, opts: { auth: boolean }): void {
  const html = pageHtml(inertJson(pageConfig(pipeline, opts.auth)));
  const secure = (ctx: Context, type: string) => {
    ctx.type = type;
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
  };
  router.get(SEARCH_PAGE_PATH, (ctx) => {
    secure(ctx, 'text/html; charset=utf-8');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = html;
  });
  router.get(SEARCH_PAGE_SCRIPT, async (ctx) => {
    const script = await assets.script();
    secure(ctx, 'text/javascript; charset=utf-8');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = script;
  });
  router.get(SEARCH_PAGE_STYLE, (ctx) => {
    secure(ctx, 'text/css; charset=utf-8');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = assets.style();
  });
}

function pageHtml(configJson: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Search</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${SEARCH_PAGE_STYLE}">
<script type="application/json" id="search-config">${configJson}</script>
<script src="${SEARCH_PAGE_SCRIPT}" defer></script>
</head><body>
<header class="top"><h1>Search</h1><select id="index-select" aria-label="Index" hidden></select><div id="searchbox"></div></header>
<div id="error" role="alert" hidden></div>
<main class="layout">
<aside id="facets" aria-label="Refine"><div id="clear"></div></aside>
<section class="results"><div class="bar"><div id="stats"></div><div id="sort"></div></div><div id="hits"></div><div id="pagination"></div></section>
</main>
</body></html>
`;
}
