import { parsePipelineConfig } from '../config/pipeline';
import { indexBody, mappingHash } from './mappings';

const spec = (title: Record<string, unknown>) =>
  parsePipelineConfig(JSON.stringify({ version: 1, indexes: { books: { table: 'books', fields: { title: { type: 'text', searchable: true, ...title }, year: { type: 'integer' } } } } })).indexes[0]!;

describe('mapping hash', () => {
  it('is stable for one config and recorded in _meta', () => {
    expect(mappingHash(spec({}))).toBe(mappingHash(spec({})));
    expect(indexBody(spec({})).mappings._meta).toEqual({ mapping_hash: mappingHash(spec({})) });
  });
  it('changes when the mapping changes (a sub-field, an analyzer), not with search-only options', () => {
    expect(mappingHash(spec({ sortable: true }))).not.toBe(mappingHash(spec({})));
    expect(mappingHash(spec({ analyzer: 'simple' }))).not.toBe(mappingHash(spec({})));
    expect(mappingHash(spec({ boost: 3 }))).toBe(mappingHash(spec({})));
  });
});
