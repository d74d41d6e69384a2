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

describe('shards and replicas', () => {
  const withReplication = (r: Record<string, unknown>) =>
    parsePipelineConfig(JSON.stringify({ version: 1, indexes: { books: { table: 'books', ...r, fields: { title: { type: 'text', searchable: true }, year: { type: 'integer' } } } } })).indexes[0]!;
  it('keeps the hash of an index that sets neither (or the default), so configuring them reindexes nothing', () => {
    // Pinned: the hash of this index as the mapping code makes it (the ranking's .exact sub-field
    // changed it once, reindexing every index on upgrade; shards and replicas must not again).
    expect(mappingHash(withReplication({}))).toBe('1a89d6068ecd9517');
    expect(mappingHash(withReplication({ shards: 1 }))).toBe('1a89d6068ecd9517');
    expect(mappingHash(withReplication({ replicas: 2 }))).toBe('1a89d6068ecd9517');
  });
  it('puts shards in the hash (a change needs a new index, so a reindex) and replicas not (they change live)', () => {
    expect(mappingHash(withReplication({ shards: 3 }))).not.toBe(mappingHash(withReplication({})));
    expect(mappingHash(withReplication({ replicas: 2 }))).toBe(mappingHash(withReplication({})));
  });
  it('creates the index with the configured shards and replicas, else one shard and 0-1 replicas following the cluster', () => {
    expect(indexBody(withReplication({ shards: 3, replicas: 2 })).settings).toEqual({ number_of_shards: 3, number_of_replicas: 2, auto_expand_replicas: 'false', refresh_interval: '30s' });
    expect(indexBody(withReplication({})).settings).toEqual({ number_of_shards: 1, auto_expand_replicas: '0-1', refresh_interval: '30s' });
  });
});

describe('mappings from the pipeline config', () => {
  const compile = (index: Record<string, unknown>, fields: Record<string, unknown>) =>
    parsePipelineConfig(JSON.stringify({ version: 1, indexes: { books: { table: 'books', ...index, fields: { title: { type: 'text', searchable: true }, ...fields } } } })).indexes[0]!;
  const props = (s: ReturnType<typeof compile>) => (indexBody(s).mappings as { properties: Record<string, Record<string, unknown>> }).properties;

  it('gives text the standard analyzer unless the index or the field names another', () => {
    expect(props(compile({}, {})).title).toMatchObject({ type: 'text', analyzer: 'standard' });
    const s = compile({ analyzer: 'english' }, { code: { type: 'text', analyzer: 'simple' } });
    expect(props(s).title).toMatchObject({ analyzer: 'english' });
    expect(props(s).code).toMatchObject({ analyzer: 'simple' });
  });
  it('adds no completion sub-field for suggest: nothing reads it, and it refused values holding U+001F', () => {
    const p = props(compile({}, { name: { type: 'text', suggest: true, sortable: true }, tag: { type: 'keyword', suggest: true } }));
    expect(p.name!.fields).toEqual({ raw: { type: 'keyword', ignore_above: 1024 } });
    expect(p.tag).toEqual({ type: 'keyword', ignore_above: 8191 });
    expect(p.title!.fields).toEqual({ exact: { type: 'keyword', normalizer: 'lowercase', ignore_above: 256 } });
  });
  it('gives searchable text a lower-cased whole-value sub-field for ranking and suggestions, other text none', () => {
    const p = props(compile({}, { notes: { type: 'text' }, tag: { type: 'keyword', searchable: true } }));
    expect((p.title!.fields as Record<string, unknown>).exact).toEqual({ type: 'keyword', normalizer: 'lowercase', ignore_above: 256 });
    expect(p.notes!.fields).toBeUndefined();
    expect(p.tag).toEqual({ type: 'keyword', ignore_above: 8191 });
  });
  it('refuses suggestions on a number, saying what to change', () => {
    expect(() => compile({}, { year: { type: 'integer', suggest: true } })).toThrow(/\/indexes\/books\/fields\/year\/suggest: suggestions complete text or keyword values/);
  });
});
