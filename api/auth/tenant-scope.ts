import type { IndexSpec } from '../../config/pipeline';
import type { AnalyticsRequest, AnalyticsResult, FieldRange } from '../analytics/analytics-request';
import type { FilterClause } from '../search/filter';
import type { RangeField, SearchBackend, SearchRequest, SearchResult } from '../search/search-backend';
import type { SuggestRequest } from '../search/suggest';

/**
 * The tenant boundary, enforced at the SearchBackend port so no route can forget it: for an
 * index with a `tenantField`, every query, aggregation, suggestion and bucket estimate gets a
 * term filter on the caller's tenant (a clause built here from the key, never parsed from
 * request text, ANDed with the caller's own filters in the Elasticsearch bool filter), and a
 * document of another tenant looks like a missing one. An index without `tenantField` is shared:
 * every tenant with the scope reads all of it. `tenant` undefined (API_AUTH=off) is unrestricted.
 */
export function tenantScoped(backend: SearchBackend, tenant: string | undefined): SearchBackend {
  if (tenant === undefined) return backend;
  const withTenant = (index: IndexSpec, filters: FilterClause[]): FilterClause[] => {
    const clause = tenantClause(index, tenant);
    return clause ? [clause, ...filters] : filters;
  };
  return {
    search: (index: IndexSpec, req: SearchRequest): Promise<SearchResult> => backend.search(index, { ...req, filters: withTenant(index, req.filters) }),
    suggest: (index: IndexSpec, req: SuggestRequest): Promise<string[]> => backend.suggest(index, { ...req, filters: withTenant(index, req.filters) }),
    fieldRange: (index: IndexSpec, field: RangeField, filters: FilterClause[]): Promise<FieldRange> => backend.fieldRange(index, field, withTenant(index, filters)),
    analytics: (index: IndexSpec, req: AnalyticsRequest): Promise<AnalyticsResult> => backend.analytics(index, { ...req, filters: withTenant(index, req.filters) }),
    getDocument: async (index: IndexSpec, id: string) => {
      const doc = await backend.getDocument(index, id);
      return doc && (!index.tenantField || doc[index.tenantField] === tenant) ? doc : undefined;
    },
    ready: () => backend.ready(),
  };
}

/** The mandatory filter of `tenant` on `index`, or undefined for a shared index. */
export function tenantClause(index: IndexSpec, tenant: string): FilterClause | undefined {
  if (!index.tenantField) return undefined;
  // tenantField is a keyword field (the pipeline config checks it), so its exact name is itself.
  return { kind: 'terms', field: index.tenantField, esField: index.tenantField, type: 'keyword', negate: false, values: [tenant] };
}
