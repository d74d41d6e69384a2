import type { IndexSpec } from '../../config/pipeline';
import { ApiError } from '../errors';
import { parseFilter, type FilterClause } from '../search/filter';
import type { SearchBackend } from '../search/search-backend';
import { indexNotAllowed } from './middleware';
import type { Principal } from './principal';
import { tenantScoped } from './tenant-scope';

/**
 * The SearchBackend as `principal` may use it: its tenant (tenant-scope.ts) and, for a browser
 * key, only its indexes with its filter ANDed into every query, suggestion, aggregation and
 * bucket estimate. The filter's clauses come from the signed key, are marked `mandatory` (so
 * facet refinement never lifts them into a post_filter) and sit in the same bool filter as the
 * caller's own clauses: a request can narrow the key's filter, never widen it.
 */
export function callerScoped(backend: SearchBackend, principal: Principal): SearchBackend {
  const scoped = tenantScoped(backend, principal.tenant);
  const r = principal.restriction;
  if (!r) return scoped;
  const check = (index: IndexSpec): void => {
    if (!r.indexes.includes(index.name)) throw indexNotAllowed(index.name, r.indexes);
  };
  const imposed = (index: IndexSpec, filters: FilterClause[]): FilterClause[] => {
    check(index);
    if (!r.filter) return filters;
    return [...parseFilter(r.filter, index).map((c): FilterClause => ({ ...c, mandatory: true })), ...filters];
  };
  return {
    search: (index, req) => scoped.search(index, { ...req, filters: imposed(index, req.filters) }),
    suggest: (index, req) => scoped.suggest(index, { ...req, filters: imposed(index, req.filters) }),
    fieldRange: (index, field, filters) => scoped.fieldRange(index, field, imposed(index, filters)),
    analytics: (index, req) => scoped.analytics(index, { ...req, filters: imposed(index, req.filters) }),
    getDocument: async (index, id) => {
      check(index);
      // A lookup by id applies no filter: with one, a key could read documents its filter hides.
      if (r.filter) throw new ApiError(403, 'DOCUMENT_LOOKUP_NOT_ALLOWED', 'a browser key with a filter cannot look documents up by id; search for them instead (its filter then applies)');
      return scoped.getDocument(index, id);
    },
    ready: () => scoped.ready(),
  };
}
