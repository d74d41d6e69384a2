import instantsearch from 'instantsearch.js';
import { clearRefinements, configure, hits, pagination, panel, refinementList, sortBy, stats } from 'instantsearch.js/es/widgets';
import { sortIndexName, type PageConfig, type PageIndex } from './mapping';
import { apiGet, ApiRequestError, createSearchClient } from './search-client';
import { suggestionBox } from './suggestions';

/**
 * The search page: InstantSearch.js widgets over this API (search-client.ts). Everything a
 * document holds reaches the page through InstantSearch's escaping or as text nodes; the page's
 * Content-Security-Policy (api/ui/routes.ts) allows no inline script either way.
 */
const KEY_STORAGE = 'search-pipeline.browser-key';

function pageConfig(): PageConfig {
  const el = document.getElementById('search-config');
  return JSON.parse(el?.textContent ?? '{}') as PageConfig;
}

/** A browser key given as `#key=…` (a fragment never reaches a server or its logs), kept for this tab only. */
function browserKey(): string | undefined {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
  if (fromHash) {
    sessionStorage.setItem(KEY_STORAGE, fromHash);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY_STORAGE) ?? undefined;
}

function showError(err: unknown): void {
  const box = document.getElementById('error') as HTMLElement;
  box.hidden = false;
  box.textContent = err instanceof ApiRequestError ? `${err.code}: ${err.message}` : `The search failed: ${err instanceof Error ? err.message : String(err)}`;
}

function chooseIndex(config: PageConfig): PageIndex {
  const wanted = new URLSearchParams(location.search).get('index');
  const index = config.indexes.find((i) => i.name === wanted) ?? config.indexes[0];
  if (!index) throw new Error('the pipeline config has no index');
  const select = document.getElementById('index-select') as HTMLSelectElement;
  for (const i of config.indexes) select.append(new Option(i.name, i.name, i.name === index.name, i.name === index.name));
  select.hidden = config.indexes.length < 2;
  select.addEventListener('change', () => {
    location.search = `?index=${encodeURIComponent(select.value)}`;
  });
  return index;
}

function start(): void {
  const config = pageConfig();
  const key = browserKey();
  const index = chooseIndex(config);
  if (config.auth && !key) {
    showError(new Error('this API needs a key: open the page as /ui#key=<browser key> (mint one with POST /v1/browser-keys or `npm run api-keys -- browser-key`)'));
  }
  const facetsBox = document.getElementById('facets') as HTMLElement;
  const facetWidgets = index.facets.map((attribute) => {
    const container = document.createElement('section');
    container.className = 'facet';
    container.dataset.facet = attribute;
    facetsBox.append(container);
    return panel<typeof refinementList>({ templates: { header: () => attribute } })(refinementList)({ container, attribute, operator: 'or', limit: 8 });
  });
  const search = instantsearch({
    indexName: index.name,
    searchClient: createSearchClient(config, key, showError) as never,
    future: { preserveSharedStateOnUnmount: true },
  });
  search.on('error', (e: { error?: unknown }) => showError(e.error ?? e));
  search.addWidgets([
    configure({ hitsPerPage: 10 }),
    suggestionBox({
      container: document.getElementById('searchbox') as HTMLElement,
      suggest: (q, signal) => apiGet<{ suggestions: string[] }>(`/v1/indexes/${encodeURIComponent(index.name)}/suggest`, { q, size: '6' }, key, signal).then((a) => a.suggestions),
    }),
    stats({ container: '#stats' }),
    clearRefinements({ container: '#clear', templates: { resetLabel: () => 'Clear filters' } }),
    sortBy({
      container: '#sort',
      items: [{ label: 'Most relevant', value: index.name }, ...index.sorts.flatMap((f) => [
        { label: `${f} ascending`, value: sortIndexName(index.name, f) },
        { label: `${f} descending`, value: sortIndexName(index.name, `-${f}`) },
      ])],
    }),
    ...facetWidgets,
    hits({
      container: '#hits',
      templates: {
        empty: (results, { html }) => html`<p class="empty">No results for <q>${results.query}</q>.</p>`,
        item: (hit, { html, components }) => html`
          <article class="hit">
            <h2 class="hit-title">${components.Highlight({ attribute: index.titleField, hit })}</h2>
            <dl class="hit-details">
              ${index.detailFields.filter((f) => hit[f] !== undefined && hit[f] !== null && hit[f] !== '').map((f) => html`<div><dt>${f}</dt><dd>${components.Highlight({ attribute: f, hit })}</dd></div>`)}
            </dl>
          </article>`,
      },
    }),
    pagination({ container: '#pagination', padding: 2, showFirst: false, showLast: false }),
  ]);
  search.start();
}

start();
