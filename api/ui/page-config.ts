import type { IndexSpec, PipelineConfig } from '../../config/pipeline';
import type { PageConfig, PageIndex } from './client/mapping';

const MAX_PAGE_FACETS = 6;
const MAX_DETAIL_FIELDS = 4;

/**
 * What the search page shows of each index, from the pipeline config: refinement lists for the
 * root fields that are facetable and filterable (a facet one cannot filter on cannot refine),
 * the sortable fields, the main text field as the heading (what /suggest completes) and a few
 * other text fields under it. Hidden fields never appear: the page reads what search returns.
 */
export function pageConfig(pipeline: PipelineConfig, auth: boolean): PageConfig {
  return { auth, indexes: pipeline.indexes.map(pageIndex).filter((i): i is PageIndex => i !== undefined) };
}

function pageIndex(index: IndexSpec): PageIndex | undefined {
  const text = index.fields.filter((f) => f.searchable && f.type === 'text').sort((a, b) => b.boost - a.boost);
  const title = text[0];
  if (!title) return undefined;
  const facets = index.fields.filter((f) => f.facetable && f.filterable && f.name !== index.tenantField).map((f) => f.name);
  const sorts = index.fields.filter((f) => f.sortable).map((f) => f.name);
  // The refinable fields first (what a visitor filters on is worth seeing on each hit), then other text.
  const details = [...new Set([...facets, ...text.map((f) => f.name)])].filter((n) => n !== title.name);
  return { name: index.name, facets: facets.slice(0, MAX_PAGE_FACETS), sorts, titleField: title.name, detailFields: details.slice(0, MAX_DETAIL_FIELDS) };
}

/** JSON for a `<script type="application/json">`: no `<` can end the element early. */
export function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
