import type { IndexSpec } from '../../config/pipeline';
import { esFilters } from './es-filters';
import type { FilterClause } from './filter';
import type { SearchRequest } from './search-backend';

/**
 * Refinement facets ("disjunctive" faceting). A facet is a list the caller refines with: with
 * `filter=system:nes&facets=system` the `system` facet must still list snes, gameboy… with the
 * count each would give, not only `nes`. So a filter clause on a requested facet's field leaves
 * the main query and becomes
 *   - part of `post_filter`, which narrows the hits (and their total) after aggregations ran, and
 *   - part of a `filter` aggregation around every *other* facet's terms aggregation,
 * so each facet counts under every filter except its own.
 *
 * What stays in the main query: the text query, clauses on fields not requested as facets, and
 * any clause on the index's `tenantField`. The tenant clause is the security boundary
 * (auth/tenant-scope.ts prepends it); it must narrow every count, whatever is asked for.
 */
export interface FacetPlan {
  /** Clauses the main query keeps. */
  query: FilterClause[];
  /** Clauses that narrow the hits only (post_filter); empty when no facet is filtered on. */
  post: FilterClause[];
}

/** Name of the terms aggregation inside a facet's filter aggregation. */
export const FACET_VALUES_AGG = 'values';

export function planFacets(index: IndexSpec, req: Pick<SearchRequest, 'filters' | 'facets'>): FacetPlan {
  const faceted = new Set(req.facets.map((f) => f.field));
  const refines = (c: FilterClause) => faceted.has(c.field) && c.field !== index.tenantField;
  return { query: req.filters.filter((c) => !refines(c)), post: req.filters.filter(refines) };
}

/** `post_filter` of the plan, or undefined when nothing refines a facet (the body is then unchanged). */
export function postFilter(plan: FacetPlan): Record<string, unknown> | undefined {
  return plan.post.length ? { bool: esFilters(plan.post) } : undefined;
}

/**
 * One aggregation per facet. Without refining clauses it is the plain terms aggregation; with
 * them, a facet's terms run inside a filter aggregation of the refining clauses on other fields
 * (`match_all` when the only refining clauses are its own).
 */
export function facetAggs(plan: FacetPlan, req: Pick<SearchRequest, 'facets' | 'facetSize'>): Record<string, unknown> {
  return Object.fromEntries(
    req.facets.map((f) => {
      const terms = { terms: { field: f.esField, size: req.facetSize } };
      if (!plan.post.length) return [f.field, terms];
      const others = plan.post.filter((c) => c.field !== f.field);
      const filter = others.length ? { bool: esFilters(others) } : { match_all: {} };
      return [f.field, { filter, aggs: { [FACET_VALUES_AGG]: terms } }];
    }),
  );
}

/** The terms buckets of a facet's aggregation, whichever of the two shapes above it has. */
export function facetTermsAgg(agg: unknown): unknown {
  const inner = (agg as Record<string, unknown> | undefined)?.[FACET_VALUES_AGG];
  return inner ?? agg;
}
