import { Params } from '../http/params';
import { books } from '../testing/fake-backend';
import { parseFilter } from './filter';
import { buildSearchBody } from './query-builder';
import { SEARCH_PARAMS, parseSearch } from './search-params';
import { SUGGEST_PARAMS, buildSuggestBody, parseSuggest } from './suggest';

const body = (q: Record<string, string>, cursor?: 'start') => buildSearchBody(books, { ...parseSearch(books, new Params(q, SEARCH_PARAMS)).request, ...(cursor ? { cursor } : {}) }) as any;

describe('search body', () => {
  it('uses simple_query_string with boosts, plus a lower-weighted fuzzy multi_match for plain queries', () => {
    const b = body({ q: 'dune messiah' });
    const [exact, typo] = b.query.bool.must[0].bool.should;
    expect(exact.simple_query_string).toMatchObject({ query: 'dune messiah', fields: ['title^3', 'body', 'author'], default_operator: 'and' });
    expect(typo.multi_match).toMatchObject({ query: 'dune messiah', fuzziness: 'AUTO', operator: 'and' });
    expect(typo.multi_match.boost).toBeLessThan(1);
  });
  it('drops the fuzzy clause when q uses operators or fuzzy=false', () => {
    expect(body({ q: 'dune -messiah' }).query.bool.must[0].simple_query_string).toBeDefined();
    expect(body({ q: '"dune messiah"' }).query.bool.must[0].simple_query_string).toBeDefined();
    expect(body({ q: 'dune', fuzzy: 'false' }).query.bool.must[0].simple_query_string).toBeDefined();
  });
  it('leaves the pipeline\'s own fields (_refs, any _ name) out of every hit', () => {
    expect(body({ q: 'x' })._source).toEqual({ excludes: ['_*', '*._*'] });
  });
  it('never lets user text reach query_string', () => {
    expect(JSON.stringify(body({ q: 'dune', filter: 'genre:"a b" year:1..2' }))).not.toMatch(/"query_string"/);
  });
  it('turns filters into terms and range clauses on exact fields', () => {
    const b = body({ filter: 'author:"Le Guin",Herbert year:1960..1970 -in_print:false published:..1999' });
    expect(b.query.bool.filter).toEqual([
      { terms: { 'author.raw': ['Le Guin', 'Herbert'] } },
      { range: { year: { gte: 1960, lte: 1970 } } },
      { range: { published: { lte: '1999||/y' } } },
    ]);
    expect(b.query.bool.must_not).toEqual([{ terms: { in_print: [false] } }]);
  });
  it('sorts on .raw for text, relevance as the tiebreaker', () => {
    expect(body({ sort: '-year,title' }).sort).toEqual([{ year: { order: 'desc', missing: '_last' } }, { 'title.raw': { order: 'asc', missing: '_last' } }, '_score']);
    expect(body({}).sort).toBeUndefined();
  });
  it('adds _shard_doc as the tiebreaker for cursors and leaves out from', () => {
    const b = body({ q: 'x', sort: 'year' }, 'start');
    expect(b.sort).toEqual([{ year: { order: 'asc', missing: '_last' } }, '_score', { _shard_doc: 'asc' }]);
    expect(b.from).toBeUndefined();
  });
  it('asks for facets as bounded terms aggregations', () => {
    expect(body({ facets: 'genre,author', facetSize: '7' }).aggs).toEqual({ genre: { terms: { field: 'genre', size: 7 } }, author: { terms: { field: 'author.raw', size: 7 } } });
  });
  it('highlights searchable text fields only when there is a query', () => {
    const hl = body({ q: 'x' }).highlight;
    expect(Object.keys(hl.fields)).toEqual(['title', 'body', 'author']);
    expect(Object.keys(hl.highlight_query)).toEqual(['simple_query_string']); // the fuzzy clause is too slow to highlight
    expect(hl.encoder).toBe('html'); // document markup escaped around the marks (highlight.int.test.ts)
    expect(body({}).highlight).toBeUndefined();
    expect(body({ q: 'x', highlight: 'false' }).highlight).toBeUndefined();
  });
});

describe('suggest body', () => {
  it('matches every word, the last as a prefix, deduplicated on the exact value', () => {
    const req = parseSuggest(books, new Params({ q: 'dune mes', filter: 'year:1960..' }, SUGGEST_PARAMS));
    expect(buildSuggestBody(req)).toEqual({
      size: 5,
      _source: ['title'],
      track_total_hits: false,
      query: { bool: { must: [{ multi_match: { query: 'dune mes', type: 'bool_prefix', fields: ['title'], operator: 'and' } }], filter: [{ range: { year: { gte: 1960 } } }], must_not: [] } },
      collapse: { field: 'title.raw' },
    });
  });
});

describe('filter syntax', () => {
  it('parses quoted values with escapes, open ranges and exact longs', () => {
    const f = parseFilter('author:"Say \\"hi\\", ok" pages:..9007199254740993 price:1.5..', books);
    expect(f[0]).toMatchObject({ kind: 'terms', values: ['Say "hi", ok'] });
    expect(f[1]).toMatchObject({ kind: 'range', lte: '9007199254740993' });
    expect(f[2]).toMatchObject({ kind: 'range', gte: 1.5 });
  });
  it('says where the syntax breaks', () => {
    expect(() => parseFilter('year:1990 genre', books)).toThrow(/expected ":" after "genre" at character 16/);
    expect(() => parseFilter('year:1990,', books)).toThrow(/expected a value for year/);
    expect(() => parseFilter('year:1990genre:x"', books)).toThrow(/FILTER|expected a space|not a valid value/);
  });
});
