import { parsePipelineConfig, type IndexSpec } from '../../config/pipeline';
import { Params } from '../http/params';
import { books } from '../testing/fake-backend';
import { parseFilter } from './filter';
import { buildSearchBody } from './query-builder';
import { SEARCH_PARAMS, parseSearch } from './search-params';
import { SUGGEST_PARAMS, buildSuggestBody, parseSuggest } from './suggest';

/** The books index of the fake backend with a ranking block. */
function withRanking(ranking: Record<string, unknown>): IndexSpec {
  const fields = Object.fromEntries(books.fields.map((f) => [f.name, { type: f.type, ...(f.searchable ? { searchable: true, boost: f.boost } : {}), ...(f.sortable ? { sortable: true } : {}), ...(f.filterable ? { filterable: true } : {}) }]));
  return parsePipelineConfig(JSON.stringify({ version: 1, indexes: { books: { table: 'books', fields, ranking } } })).indexes[0]!;
}

const body = (q: Record<string, string>, cursor?: 'start') => buildSearchBody(books, { ...parseSearch(books, new Params(q, SEARCH_PARAMS)).request, ...(cursor ? { cursor } : {}) }) as any;

describe('search body', () => {
  it('ranks a plain query by fixed-score clauses, the best one counting (dis_max), BM25 only as a tie-breaker', () => {
    const g = body({ q: 'dune messiah' }).query.bool.must[0];
    const [ranked, tie] = [g.bool.must[0].dis_max, g.bool.should[0]];
    expect(ranked.tie_breaker).toBe(0);
    const filters = ranked.queries.map((c: any) => c.constant_score.filter);
    expect(filters[0].simple_query_string).toMatchObject({ query: 'dune messiah', fields: ['title^3', 'body', 'author'], default_operator: 'and' });
    // Typos: every field's words within AUTO edits, the first letter included; the whole title one edit away.
    expect(filters.filter((f: any) => f.match?.[Object.keys(f.match)[0]!].fuzziness).map((f: any) => [Object.keys(f.match)[0], f.match[Object.keys(f.match)[0]!]])).toEqual(
      ['title', 'body', 'author'].map((field) => [field, { query: 'dune messiah', operator: 'and', fuzziness: 'AUTO', prefix_length: 0, max_expansions: 20 }]),
    );
    expect(filters.filter((f: any) => f.fuzzy).map((f: any) => Object.keys(f.fuzzy))).toEqual([['title.exact']]);
    expect(tie.simple_query_string.boost).toBeLessThan(0.001);
  });
  it('drops the typo clauses when q uses operators or fuzzy=false', () => {
    expect(body({ q: 'dune -messiah' }).query.bool.must[0].simple_query_string).toBeDefined();
    expect(body({ q: '"dune messiah"' }).query.bool.must[0].simple_query_string).toBeDefined();
    const clauses = JSON.stringify(body({ q: 'dune', fuzzy: 'false' }).query);
    expect(clauses).not.toMatch(/fuzz/);
    expect(clauses).toMatch(/"dis_max"/);
  });
  it('ranks names typed with parentheses or a lone dash, which mean only their words', () => {
    expect(body({ q: 'Tetris (Euro)' }).query.bool.must[0].bool.must[0].dis_max).toBeDefined();
    expect(body({ q: 'Street Fighter II - The World Warrior' }).query.bool.must[0].bool.must[0].dis_max).toBeDefined();
    expect(body({ q: 'Turbo C++ + Shrek' }).query.bool.must[0].bool.must[0].dis_max).toBeDefined();
    expect(body({ q: 'tetris (-euro)' }).query.bool.must[0].simple_query_string).toBeDefined();
    expect(body({ q: 'tetris +-euro' }).query.bool.must[0].simple_query_string).toBeDefined();
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
  it('completes the lower-cased whole value by prefix, deduplicated on it, in value order without a popularity field', () => {
    const req = parseSuggest(books, new Params({ q: '  Dune   Mes', filter: 'year:1960..' }, SUGGEST_PARAMS));
    expect(buildSuggestBody(req)).toEqual({
      size: 5,
      _source: ['title'],
      track_total_hits: false,
      query: { bool: { filter: [{ prefix: { 'title.exact': { value: 'dune mes' } } }, { range: { year: { gte: 1960 } } }], must_not: [] } },
      sort: [{ 'title.exact': 'asc' }],
      collapse: { field: 'title.exact' },
    });
  });
  it('keeps a trailing space (the next word), orders by the popularity field first, and completes a named keyword field case-insensitively', () => {
    const popular = withRanking({ popularity: { field: 'price' }, suggest: 'genre' });
    const b = buildSuggestBody(parseSuggest(popular, new Params({ q: 'Sci ' }, SUGGEST_PARAMS))) as any;
    expect(b.query.bool.filter[0]).toEqual({ prefix: { genre: { value: 'Sci ', case_insensitive: true } } });
    expect(b.sort).toEqual([{ price: { order: 'desc', missing: '_last' } }, { genre: 'asc' }]);
    const text = buildSuggestBody(parseSuggest(withRanking({ popularity: { field: 'year', order: 'asc' } }), new Params({ q: 'dune ' }, SUGGEST_PARAMS))) as any;
    expect(text.query.bool.filter[0]).toEqual({ prefix: { 'title.exact': { value: 'dune ' } } });
    expect(text.sort[0]).toEqual({ year: { order: 'asc', missing: '_last' } });
  });
});

describe('ranking', () => {
  it('scores each way of matching as fixed levels, the first rule the most significant', () => {
    const ranked = body({ q: 'Dune Messiah', fuzzy: 'true' }).query.bool.must[0].bool.must[0].dis_max.queries;
    const score = (pred: (c: any) => boolean) => ranked.find((c: any) => pred(c.constant_score.filter)).constant_score.boost;
    const titleExact = score((f) => f.term?.['title.exact'] === 'dune messiah');
    const titleStarts = score((f) => f.bool?.filter?.[0]?.prefix?.['title.exact'] === 'dune messiah');
    const titlePhrase = score((f) => f.match_phrase?.title === 'Dune Messiah');
    const titleWords = score((f) => f.match?.title && !f.match.title.fuzziness);
    const bodyExact = score((f) => f.term?.['body.exact'] === 'dune messiah');
    const titleTypoExact = score((f) => f.fuzzy?.['title.exact']?.value === 'dune messiah');
    const titleTypoWords = score((f) => f.match?.title?.fuzziness === 'AUTO');
    // Default rules: typo, then attribute (title^3 over body), then exactness.
    const inOrder = [titleExact, titleStarts, titlePhrase, titleWords, bodyExact, titleTypoExact, titleTypoWords];
    expect(inOrder).toEqual([...inOrder].sort((a, b) => b - a));
    expect(new Set(inOrder).size).toBe(inOrder.length);
    expect(ranked.find((c: any) => c.constant_score.filter.fuzzy).constant_score.filter.fuzzy['title.exact']).toMatchObject({ fuzziness: 'AUTO:3,100000', prefix_length: 0 });
  });
  it('follows the configured order of rules: exactness before attribute puts an exact body above title words', () => {
    const spec = withRanking({ rules: ['exactness', 'attribute'] });
    const ranked = (buildSearchBody(spec, parseSearch(spec, new Params({ q: 'dune' }, SEARCH_PARAMS)).request) as any).query.bool.must[0].bool.must[0].dis_max.queries;
    const boost = (pred: (f: any) => boolean) => ranked.find((c: any) => pred(c.constant_score.filter)).constant_score.boost;
    expect(boost((f) => f.term?.['body.exact'])).toBeGreaterThan(boost((f) => f.match?.title && !f.match.title.fuzziness));
    // typo left out: a typo-only clause scores like its exact twin.
    expect(boost((f) => f.fuzzy?.['title.exact'])).toBe(boost((f) => f.term?.['title.exact']));
  });
  it('sorts by the popularity field after the score, with a query, without one and with cursors; no BM25 tie-breaker then', () => {
    const spec = withRanking({ popularity: { field: 'year' } });
    const b = (q: Record<string, string>, cursor?: 'start') => buildSearchBody(spec, { ...parseSearch(spec, new Params(q, SEARCH_PARAMS)).request, ...(cursor ? { cursor } : {}) }) as any;
    const year = { year: { order: 'desc', missing: '_last' } };
    expect(b({ q: 'dune' }).sort).toEqual(['_score', year]);
    expect(b({ q: 'dune' }).query.bool.must[0].dis_max).toBeDefined();
    expect(b({}).sort).toEqual(['_score', year]);
    expect(b({ q: 'dune', sort: 'title' }).sort).toEqual([{ 'title.raw': { order: 'asc', missing: '_last' } }, '_score', year]);
    expect(b({ q: 'dune', sort: 'relevance,title' }).sort).toEqual(['_score', year, { 'title.raw': { order: 'asc', missing: '_last' } }]);
    expect(b({ q: 'dune' }, 'start').sort).toEqual(['_score', year, { _shard_doc: 'asc' }]);
  });
  it('keys cached answers on the ranking config too, so they do not outlive a change of it', () => {
    const key = (spec: IndexSpec) => JSON.stringify(parseSearch(spec, new Params({ q: 'dune' }, SEARCH_PARAMS)).normalised);
    expect(key(withRanking({ popularity: { field: 'year' } }))).not.toBe(key(withRanking({ popularity: { field: 'price' } })));
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
