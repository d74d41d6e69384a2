import type { IndexSpec } from '../../config/pipeline';
import { esFilters } from './es-filters';
import type { FilterClause } from './filter';
import { inNested, rootsOf, ROOTS } from './nested';
import type { FacetRequest, SearchRequest } from './search-backend';

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
 * any clause on the index's `tenantField`, and any `mandatory` clause (a browser key's filter).
 * Those are the security boundary (auth/tenant-scope.ts and auth/restriction-scope.ts prepend
 * them); they must narrow every count, whatever is asked for.
 *
 * Fields of nested relations (field-paths.ts) refine the same way, by their path. Clauses on one
 * nested relation must hold within one of its objects (es-filters.ts), so a refining clause on
 * one takes the main query's other (non-negated) clauses on that relation into `post_filter` with
 * it, where they build one `nested` query again: `items.product.category:toys items.qty:2..` with
 * `facets=items.product.category` still finds orders with one item that is a toy bought twice.
 * Those companions also stay in the main query (they narrow every count, as before); in the
 * filter aggregations they are harmless repeats. A nested facet keeps counting roots through
 * `reverse_nested` inside its filter aggregation (`facetAgg`).
 */
export interface FacetPlan {
  /** Clauses the main query keeps. */
  query: FilterClause[];
  /**
   * Clauses that narrow the hits after the aggregations (post_filter): the refining ones, and the
   * main query's clauses joined with a refining one in a nested query. Empty when no facet is
   * filtered on.
   */
  post: FilterClause[];
}

/** Name of the terms aggregation inside a facet's filter aggregation. */
export const FACET_VALUES_AGG = 'values';

export function planFacets(index: IndexSpec, req: Pick<SearchRequest, 'filters' | 'facets'>): FacetPlan {
  const faceted = new Set(req.facets.map((f) => f.field));
  const refines = (c: FilterClause) => faceted.has(c.field) && c.field !== index.tenantField && !c.mandatory;
  const query = req.filters.filter((c) => !refines(c));
  const moved = req.filters.filter(refines);
  // The outermost nested relation of a non-negated clause: es-filters.ts joins such clauses into one nested query.
  const joinedAt = (c: FilterClause) => (c.negate ? undefined : c.nested?.[0]);
  const relations = new Set(moved.map(joinedAt).filter((r) => r !== undefined));
  const companions = query.filter((c) => relations.has(joinedAt(c) as string));
  // In request order, so post_filter's nested query lists its clauses as the main query would have.
  return { query, post: req.filters.filter((c) => refines(c) || companions.includes(c)) };
}

/**
 * A facet's aggregation, counting roots. On a field of a nested relation the values are its
 * objects', so the terms run inside `nested` and each value counts (and is ranked by) the roots
 * holding it through `reverse_nested`: an order with three toys counts once for toys.
 */
export function facetAgg(f: FacetRequest, size: number): Record<string, unknown> {
  if (!f.nested?.length) return { terms: { field: f.esField, size } };
  return inNested(f.nested, { terms: { field: f.esField, size, order: [{ [ROOTS]: 'desc' }, { _key: 'asc' }] }, aggs: rootsOf() });
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
      const terms = facetAgg(f, req.facetSize);
      if (!plan.post.length) return [f.field, terms];
      const others = plan.post.filter((c) => c.field !== f.field);
      const filter = others.length ? { bool: esFilters(others) } : { match_all: {} };
      return [f.field, { filter, aggs: { [FACET_VALUES_AGG]: terms } }];
    }),
  );
}

/**
 * A facet's aggregation result without its filter wrapper, whichever of the two shapes above it
 * has (a nested facet's then still holds its `nested` levels: es-search-backend.ts reads them).
 */
export function facetTermsAgg(agg: unknown): unknown {
  const inner = (agg as Record<string, unknown> | undefined)?.[FACET_VALUES_AGG];
  return inner ?? agg;
}
