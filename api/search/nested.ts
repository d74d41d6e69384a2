/**
 * Elasticsearch `nested` plumbing for fields of nested relations (field-paths.ts). A nested
 * array's objects are hidden documents of their own: a query on them must be a `nested` query
 * (which matches a root when one object matches everything inside it), and an aggregation must
 * step into them with `nested` and back to the roots with `reverse_nested` to count roots,
 * not objects. `chain` lists the nested relations from the root down, one level per entry
 * (FieldPath.nested): aggregations and sorts step through each level.
 */
type Body = Record<string, unknown>;

/**
 * `query` over the objects of the nested relation `path`, as a query on roots. Only the innermost
 * path is needed: Elasticsearch joins `items.discounts` objects straight to their root (and
 * returns inner hits at the top level, which highlights rely on).
 */
export function nestedQuery(path: string, query: Body, scoreMode: 'none' | 'max' = 'none', innerHits?: Body): Body {
  return { nested: { path, query, score_mode: scoreMode, ...(innerHits ? { inner_hits: innerHits } : {}) } };
}

/** The name of the sub-aggregation one nested level holds; what `fromNested` follows back. */
const IN = 'in';

/** `agg` computed over the objects at the end of `chain` (unchanged for an empty chain). */
export function inNested(chain: readonly string[], agg: Body): Body {
  return chain.reduceRight<Body>((inner, path) => ({ nested: { path }, aggs: { [IN]: inner } }), agg);
}

/** The result of the aggregation `inNested(chain, …)` wrapped, from the wrapper's result. */
export function fromNested(chain: readonly string[], result: unknown): unknown {
  return chain.reduce<unknown>((r) => (r as Record<string, unknown> | undefined)?.[IN], result);
}

/** Sub-aggregation name of the roots of a nested bucket. */
export const ROOTS = 'roots';

/** Counts the roots of a bucket of nested objects (with `aggs` computed over those roots). */
export function rootsOf(aggs?: Body): Body {
  return { [ROOTS]: { reverse_nested: {}, ...(aggs && Object.keys(aggs).length ? { aggs } : {}) } };
}

/** The `nested` option of a sort on a field at the end of `chain`. */
export function nestedSort(chain: readonly string[]): Body | undefined {
  return chain.reduceRight<Body | undefined>((inner, path) => ({ path, ...(inner ? { nested: inner } : {}) }), undefined);
}
