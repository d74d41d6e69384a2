import { parsePipelineConfig } from '../../config/pipeline';
import type { AnalyticsRequest, AnalyticsResult, FieldRange } from '../analytics/analytics-request';
import type { FilterClause } from '../search/filter';
import type { RangeField, SearchBackend, SearchRequest, SearchResult } from '../search/search-backend';

/** Unit-test double of the SearchBackend port: records requests, answers canned results. */
export class FakeBackend implements SearchBackend {
  searches: SearchRequest[] = [];
  analyticsCalls: AnalyticsRequest[] = [];
  range: FieldRange = { min: null, max: null };
  searchResult: SearchResult = { total: 1, totalRelation: 'eq', tookMs: 1, hits: [{ id: '1', score: 1, document: { title: 'Dune' } }] };
  analyticsResult: AnalyticsResult = { tookMs: 1, total: 3, metrics: { count: 3 } };
  documents: Record<string, Record<string, unknown>> = { '1': { title: 'Dune' } };

  async search(_index: unknown, req: SearchRequest): Promise<SearchResult> {
    this.searches.push(req);
    return this.searchResult;
  }
  async getDocument(_index: unknown, id: string) {
    return this.documents[id];
  }
  suggestions = ['Dune', 'Dune Messiah'];
  async suggest() {
    return this.suggestions;
  }
  async fieldRange(_index: unknown, _field: RangeField, _filters: FilterClause[]): Promise<FieldRange> {
    return this.range;
  }
  async analytics(_index: unknown, req: AnalyticsRequest): Promise<AnalyticsResult> {
    this.analyticsCalls.push(req);
    return this.analyticsResult;
  }
  async ready() {
    return true;
  }
}

/** A small index with one field of each kind the API treats differently. */
export const testPipeline = parsePipelineConfig(
  JSON.stringify({
    version: 1,
    indexes: {
      books: {
        table: 'books',
        fields: {
          title: { type: 'text', searchable: true, boost: 3, sortable: true },
          body: { type: 'text', searchable: true },
          author: { type: 'text', searchable: true, facetable: true, filterable: true },
          genre: { type: 'keyword', filterable: true, facetable: true },
          year: { type: 'integer', filterable: true, facetable: true, sortable: true },
          price: { type: 'double', filterable: true, sortable: true },
          pages: { type: 'long', filterable: true },
          in_print: { type: 'boolean', filterable: true, facetable: true },
          published: { type: 'date', filterable: true, sortable: true },
          tenant_id: { type: 'keyword' },
        },
      },
    },
  }),
);
export const books = testPipeline.indexes[0]!;
