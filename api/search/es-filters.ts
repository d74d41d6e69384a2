import type { FilterClause, FilterValue } from './filter';

/** Filter clauses → Elasticsearch `bool` parts (filter context: no scoring, cacheable). */
export function esFilters(clauses: readonly FilterClause[]): { filter: unknown[]; must_not: unknown[] } {
  const filter: unknown[] = [];
  const mustNot: unknown[] = [];
  for (const c of clauses) {
    const q =
      c.kind === 'terms'
        ? { terms: { [c.esField]: c.values } }
        : { range: { [c.esField]: { ...(c.gte === undefined ? {} : { gte: c.gte }), ...(c.lte === undefined ? {} : { lte: c.type === 'date' ? roundUp(c.lte) : c.lte }) } } };
    (c.negate ? mustNot : filter).push(q);
  }
  return { filter, must_not: mustNot };
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
