import type { FilterClause, FilterValue } from './filter';
import { nestedQuery } from './nested';

type Query = Record<string, unknown>;

/**
 * Filter clauses → Elasticsearch `bool` parts (filter context: no scoring, cacheable).
 *
 * Clauses on fields of one nested relation go into one `nested` query, so together they must
 * hold for one object: `items.product.category:toys items.qty:2..` finds orders with an item that
 * is a toy bought at least twice, not a toy and some other item bought twice. The same holds a
 * level down (`items.qty:2.. items.discounts.code:X`: one item, with such a discount). A negated
 * clause excludes the roots having any such object, and stands alone for that reason. (Relations
 * mapped as plain objects match across their objects: what `nested: false` trades for speed.)
 */
export function esFilters(clauses: readonly FilterClause[]): { filter: unknown[]; must_not: unknown[] } {
  const mustNot = clauses.filter((c) => c.negate).map((c) => (c.nested?.length ? nestedQuery(c.nested[c.nested.length - 1] as string, leafQuery(c)) : leafQuery(c)));
  return { filter: level(clauses.filter((c) => !c.negate), 0), must_not: mustNot };
}

/**
 * The queries of `clauses`, all nested at least `depth` levels with the same relations down to
 * there: those at exactly `depth` as they are, the others one `nested` query per next relation,
 * in the place of its first clause.
 */
function level(clauses: readonly FilterClause[], depth: number): Query[] {
  const out: Array<Query | string> = [];
  const deeper = new Map<string, FilterClause[]>();
  for (const c of clauses) {
    const next = c.nested?.[depth];
    if (next === undefined) out.push(leafQuery(c));
    else if (deeper.has(next)) deeper.get(next)?.push(c);
    else {
      deeper.set(next, [c]);
      out.push(next);
    }
  }
  return out.map((q) => {
    if (typeof q !== 'string') return q;
    const inner = level(deeper.get(q) ?? [], depth + 1);
    return nestedQuery(q, inner.length === 1 ? (inner[0] as Query) : { bool: { filter: inner } });
  });
}

function leafQuery(c: FilterClause): Query {
  if (c.kind === 'terms') return { terms: { [c.esField]: c.values } };
  return { range: { [c.esField]: { ...(c.gte === undefined ? {} : { gte: c.gte }), ...(c.lte === undefined ? {} : { lte: c.type === 'date' ? roundUp(c.lte) : c.lte }) } } };
}

/**
 * `release_date:..1999` means "up to the end of 1999", not "up to 1999-01-01T00:00": a date
 * without a time is rounded up to the end of its year, month or day with date math.
 */
function roundUp(v: FilterValue): FilterValue {
  if (typeof v !== 'string') return v;
  if (/^\d{4}$/.test(v)) return `${v}||/y`;
  if (/^\d{4}-\d{2}$/.test(v)) return `${v}||/M`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return `${v}||/d`;
  return v;
}
