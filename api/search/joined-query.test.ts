import { Params } from '../http/params';
import { compileSynonyms } from '../synonyms/rules';
import { orders } from '../testing/orders-index';
import { buildSearchBody } from './query-builder';
import { SEARCH_PARAMS, parseSearch } from './search-params';
import { mergeHighlights } from './text-query';

/** The search body over joined documents: field paths into object and nested relations. */
const parse = (q: Record<string, string>) => parseSearch(orders, new Params(q, SEARCH_PARAMS));
const body = (q: Record<string, string>) => buildSearchBody(orders, parse(q).request) as any;
// A plain query is ranked (ranking.ts): its first clause holds the exact words, the second the typo-tolerant ones.
const words = (g: any) => (g.dis_max ?? g.bool.must[0].dis_max).queries[0].constant_score.filter;
const error = (q: Record<string, string>) => {
  try {
    parse(q);
  } catch (err) {
    return [(err as { code: string }).code, (err as Error).message];
  }
  throw new Error('expected a 400');
};

describe('search over joined documents', () => {
  it('searches the root with its object relations, and each nested relation in a nested query (bool should)', () => {
    const [root, items, discounts] = body({ q: 'toy', fuzzy: 'false' }).query.bool.must[0].bool.should;
    expect(words(root).simple_query_string.fields).toEqual(['number^3', 'customer.name^2', 'tags.label']);
    expect(items.nested).toMatchObject({ path: 'items', score_mode: 'max' });
    expect(words(items.nested.query).simple_query_string.fields).toEqual(['items.product.title']);
    expect(discounts.nested).toMatchObject({ path: 'items.discounts' });
    expect(words(discounts.nested.query).simple_query_string.fields).toEqual(['items.discounts.code']);
    const nestedTypo = body({ q: 'toy' }).query.bool.must[0].bool.should[1].nested.query.bool.must[0].dis_max.queries.map((c: any) => c.constant_score.filter).filter((f: any) => JSON.stringify(f).includes('fuzziness'));
    expect(nestedTypo.flatMap((f: any) => Object.keys(f.match ?? f.fuzzy))).toEqual(['items.product.title.exact', 'items.product.title']);
  });
  it('expands synonyms in every group, nested relations and their highlights included', () => {
    const b = buildSearchBody(orders, { ...parse({ q: 'toy', fuzzy: 'false' }).request, synonyms: compileSynonyms(['toy, plaything']) }) as any;
    const [root, items] = b.query.bool.must[0].bool.should;
    const expanded = (fields: string[]) => ({ bool: { should: [{ simple_query_string: expect.objectContaining({ query: 'toy', fields }) }, { simple_query_string: expect.objectContaining({ query: 'plaything', fields, boost: 0.9 }) }], minimum_should_match: 1 } });
    expect(words(root)).toEqual(expanded(['number^3', 'customer.name^2', 'tags.label']));
    expect(words(items.nested.query)).toEqual(expanded(['items.product.title']));
    expect(items.nested.inner_hits.highlight.highlight_query).toEqual(expanded(['items.product.title']));
    expect(b.highlight.highlight_query).toEqual(expanded(['customer.name^2']));
  });
  it('highlights nested text through inner hits, root text at the top level', () => {
    const b = body({ q: 'toy' });
    expect(Object.keys(b.highlight.fields)).toEqual(['customer.name']);
    const inner = b.query.bool.must[0].bool.should[1].nested.inner_hits;
    expect(inner).toMatchObject({ name: 'highlight:items', _source: false, highlight: { fields: { 'items.product.title': {} }, encoder: 'html' } });
    expect(b.query.bool.must[0].bool.should[2].nested.inner_hits).toBeUndefined(); // a keyword: shown whole
    expect(body({ q: 'toy', highlight: 'false' }).query.bool.must[0].bool.should[1].nested.inner_hits).toBeUndefined();
  });
  it('merges nested highlights by full path and leaves other inner hits alone', () => {
    const merged = mergeHighlights({ 'customer.name': ['<mark>Ada</mark>'] }, {
      'highlight:items': { hits: { hits: [{ highlight: { 'items.product.title': ['<mark>Toy</mark> car'] } }, { highlight: { 'items.product.title': ['<mark>Toy</mark> boat'] } }] } },
      other: { hits: { hits: [{ highlight: { x: ['y'] } }] } },
    });
    expect(merged).toEqual({ 'customer.name': ['<mark>Ada</mark>'], 'items.product.title': ['<mark>Toy</mark> car', '<mark>Toy</mark> boat'] });
    expect(mergeHighlights(undefined, undefined)).toBeUndefined();
  });
  it('filters object relations directly, and clauses on one nested relation within one object', () => {
    const b = body({ filter: 'customer.country:fr items.product.category:toys status:paid items.qty:2.. items.discounts.code:X' });
    expect(b.query.bool.filter).toEqual([
      { terms: { 'customer.country': ['fr'] } },
      { nested: { path: 'items', score_mode: 'none', query: { bool: { filter: [
        { terms: { 'items.product.category': ['toys'] } },
        { range: { 'items.qty': { gte: 2 } } },
        { nested: { path: 'items.discounts', score_mode: 'none', query: { terms: { 'items.discounts.code': ['X'] } } } },
      ] } } } },
      { terms: { status: ['paid'] } },
    ]);
  });
  it('excludes the roots having a matching nested object for a negated clause', () => {
    expect(body({ filter: '-items.product.category:toys -tags.label:gift' }).query.bool.must_not).toEqual([
      { nested: { path: 'items', score_mode: 'none', query: { terms: { 'items.product.category': ['toys'] } } } },
      { terms: { 'tags.label': ['gift'] } },
    ]);
  });
  it('facets count roots: nested values through reverse_nested, object values directly', () => {
    expect(body({ facets: 'customer.country,items.product.category,items.discounts.code', facetSize: '5' }).aggs).toEqual({
      'customer.country': { terms: { field: 'customer.country', size: 5 } },
      'items.product.category': { nested: { path: 'items' }, aggs: { in: { terms: { field: 'items.product.category', size: 5, order: [{ roots: 'desc' }, { _key: 'asc' }] }, aggs: { roots: { reverse_nested: {} } } } } },
      'items.discounts.code': { nested: { path: 'items' }, aggs: { in: { nested: { path: 'items.discounts' }, aggs: { in: { terms: { field: 'items.discounts.code', size: 5, order: [{ roots: 'desc' }, { _key: 'asc' }] }, aggs: { roots: { reverse_nested: {} } } } } } } },
    });
  });
  it('sorts on object relation fields, and on nested ones by their smallest or largest value', () => {
    expect(body({ sort: 'customer.name,-items.qty' }).sort).toEqual([
      { 'customer.name.raw': { order: 'asc', missing: '_last' } },
      { 'items.qty': { order: 'desc', missing: '_last', mode: 'max', nested: { path: 'items' } } },
      '_score',
    ]);
  });
  it('refuses a path that is not configured (or lacks the option) with a 400 naming it and the allowed ones', () => {
    expect(error({ filter: 'items.product.price:1' })).toEqual(['FILTER_FIELD_NOT_ALLOWED', expect.stringContaining('"items.product.price" is not a filterable field of orders; filterable fields: number, status, total, placed_at, customer.country, items.qty, items.product.title, items.product.category, items.discounts.code, tags.label')]);
    expect(error({ filter: 'customer.name:Ada' })[1]).toContain('"customer.name" is not a filterable field');
    expect(error({ facets: 'items.qty' })).toEqual(['FACET_FIELD_NOT_ALLOWED', expect.stringContaining('facetable fields: status, customer.country, items.product.category, items.discounts.code, tags.label')]);
    expect(error({ sort: 'items.product.title' })).toEqual(['SORT_FIELD_NOT_ALLOWED', expect.stringContaining('sortable fields: number, total, placed_at, customer.name, customer.country, items.qty')]);
    expect(error({ filter: 'items:x' })[0]).toBe('FILTER_FIELD_NOT_ALLOWED'); // a relation is not a field
    expect(error({ filter: 'items.qty:two' })).toEqual(['FILTER_VALUE_INVALID', expect.stringContaining('for items.qty; expected a whole number')]);
  });
});
