import { POST_TAG, PRE_TAG, splitIndexName, toAlgoliaResult, toApiParams, toFilter, toHighlightValue, type PageIndex } from './mapping';

const index: PageIndex = { name: 'software', facets: ['system', 'publisher', 'year'], sorts: ['year'], titleField: 'title', detailFields: ['publisher'] };

describe('the InstantSearch adapter', () => {
  it('turns a query into API parameters: 1-based page, size, facets it knows, sort from the index name', () => {
    expect(toApiParams({ indexName: 'software~-year', params: { query: 'zelda', page: 2, hitsPerPage: 10, facets: ['system', 'developer'], maxValuesPerFacet: 8 } }, index)).toEqual({
      q: 'zelda', page: '3', size: '10', highlight: 'true', facets: 'system', facetSize: '8', sort: '-year',
    });
    expect(toApiParams({ indexName: 'software', params: { facets: '*', hitsPerPage: 0 } }, index)).toMatchObject({ facets: 'system,publisher,year', size: '0', page: '1', highlight: 'false' });
    // Beyond the API's 10,000-result window the page is clamped rather than refused.
    expect(toApiParams({ indexName: 'software', params: { page: 5000, hitsPerPage: 10 } }, index).page).toBe('1000');
    expect(splitIndexName('software')).toEqual({ index: 'software', sort: undefined });
  });

  it('turns facetFilters (AND of OR-lists) into the filter syntax, quoting what needs it', () => {
    expect(toFilter([['system:nes', 'system:snes'], 'year:1990', ['publisher:Sega, Inc.']])).toBe('system:nes,snes year:1990 publisher:"Sega, Inc."');
    expect(toFilter(['publisher:He said "hi" \\ bye'])).toBe('publisher:"He said \\"hi\\" \\\\ bye"');
    expect(toFilter(['system:-nes'])).toBe('-system:nes');
    expect(toFilter(['system:\\-nes'])).toBe('system:"-nes"');
    expect(toFilter(undefined)).toBe('');
    expect(() => toFilter([['system:nes', 'year:1990']])).toThrow(/across fields/);
  });

  it('turns an escaped <mark> fragment into InstantSearch markers around the original text, so a hostile title stays text', () => {
    const fragment = '&lt;img src=x onerror=alert(1)&gt; <mark>gizmo</mark> &amp; &quot;co&quot; &#x27;n&#x2F;a';
    expect(toHighlightValue(fragment)).toBe(`<img src=x onerror=alert(1)> ${PRE_TAG}gizmo${POST_TAG} & "co" 'n/a`);
    // Entities are decoded once: an escaped entity in the document stays what it was.
    expect(toHighlightValue('&amp;lt;b&amp;gt;')).toBe('&lt;b&gt;');
  });

  it('turns an answer into InstantSearch\'s result: hits with objectID and _highlightResult, facet maps, pages', () => {
    const params = toApiParams({ indexName: 'software', params: { query: 'zelda', page: 1, hitsPerPage: 10, facets: ['system'] } }, index);
    const result = toAlgoliaResult({ indexName: 'software' }, params, {
      total: 25, totalRelation: 'eq', tookMs: 3,
      hits: [{ id: 'z1', document: { title: 'Zelda', publisher: 'Nintendo', year: 1986 }, highlight: { title: ['<mark>Zelda</mark>'] } }],
      facets: { system: [{ value: 'nes', count: 20 }, { value: 'snes', count: 5 }] },
    }, index);
    expect(result).toMatchObject({ nbHits: 25, page: 1, nbPages: 3, hitsPerPage: 10, query: 'zelda', facets: { system: { nes: 20, snes: 5 } } });
    expect((result.hits as unknown[])[0]).toEqual({
      objectID: 'z1', title: 'Zelda', publisher: 'Nintendo', year: 1986,
      _highlightResult: { title: { value: `${PRE_TAG}Zelda${POST_TAG}`, matchLevel: 'full', matchedWords: [] }, publisher: { value: 'Nintendo', matchLevel: 'none', matchedWords: [] } },
    });
  });
});
