import fs from 'node:fs';
import path from 'node:path';
import { loadPipelineConfig, parsePipelineConfig } from './pipeline';
import { SCHEMA_FILE, renderSchema } from './write-pipeline-schema';

const valid = { version: 1, indexes: { books: { table: 'books', fields: { title: { type: 'text', searchable: true, boost: 2 }, year: { type: 'integer', sortable: true } } } } };

describe('pipeline config', () => {
  it('compiles defaults and the source table', () => {
    const cfg = parsePipelineConfig(JSON.stringify(valid), 'p.json');
    const idx = cfg.indexes[0]!;
    expect(idx.source).toEqual({ schema: 'public', table: 'books' });
    expect(idx.fields[0]).toMatchObject({ name: 'title', column: 'title', analyzer: 'standard', boost: 2, searchable: true });
    expect(Object.isFrozen(cfg.indexes)).toBe(true);
  });
  it('takes shards and replicas per index, and refuses counts Elasticsearch cannot have', () => {
    const idx = parsePipelineConfig(JSON.stringify({ ...valid, indexes: { books: { ...valid.indexes.books, shards: 3, replicas: 1 } } })).indexes[0]!;
    expect(idx).toMatchObject({ shards: 3, replicas: 1 });
    expect(parsePipelineConfig(JSON.stringify(valid)).indexes[0]).not.toHaveProperty('replicas');
    expect(() => parsePipelineConfig(JSON.stringify({ ...valid, indexes: { books: { ...valid.indexes.books, shards: 0 } } }), 'p.json')).toThrow(/\/indexes\/books\/shards: must be >= 1/);
    expect(() => parsePipelineConfig(JSON.stringify({ ...valid, indexes: { books: { ...valid.indexes.books, replicas: -1 } } }), 'p.json')).toThrow(/\/indexes\/books\/replicas: must be >= 0/);
    expect(() => parsePipelineConfig(JSON.stringify({ ...valid, indexes: { books: { ...valid.indexes.books, replicas: 'two' } } }), 'p.json')).toThrow(/\/indexes\/books\/replicas: must be integer/);
  });
  it('names the file, the path and the fix for a bad type', () => {
    const bad = structuredClone(valid) as any;
    bad.indexes.books.fields.year.type = 'int';
    expect(() => parsePipelineConfig(JSON.stringify(bad), 'my.json')).toThrow(/my\.json[\s\S]*\/indexes\/books\/fields\/year\/type[\s\S]*integer/);
  });
  it('names unknown keys', () => {
    const bad = structuredClone(valid) as any;
    bad.indexes.books.fields.title.serchable = true;
    expect(() => parsePipelineConfig(JSON.stringify(bad), 'x.json')).toThrow(/unknown key "serchable"/);
  });
  it('points at the line of a JSON syntax error', () => {
    expect(() => parsePipelineConfig('{\n "version": 1,\n}', 'x.json')).toThrow(/x\.json: not valid JSON[\s\S]*line 3/);
  });
  it('refuses searchable numbers and an index without a searchable field', () => {
    const bad = { version: 1, indexes: { b: { table: 'b', fields: { n: { type: 'integer', searchable: true } } } } };
    expect(() => parsePipelineConfig(JSON.stringify(bad))).toThrow(/only text and keyword fields can be searchable[\s\S]*no field is "searchable"/);
  });
  it('says which file it cannot read', () => {
    expect(() => loadPipelineConfig('/nonexistent/p.json')).toThrow(/\/nonexistent\/p\.json: cannot read it \(ENOENT\)/);
  });
  it('accepts the shipped demo config', () => {
    const cfg = loadPipelineConfig(path.join(__dirname, 'pipelines', 'demo.json'));
    expect(cfg.indexes.map((i) => i.name)).toEqual(['software', 'titles']);
    const titles = cfg.indexes.find((i) => i.name === 'titles')!;
    expect(titles.relations!.map((r) => [r.name, r.kind, r.limit])).toEqual([['list', 'many-to-one', undefined], ['publisher', 'many-to-one', undefined], ['parts', 'one-to-many', 20]]);
    expect(titles.relations!.find((r) => r.name === 'parts')!.nested).toBe(true);
  });
});

describe('pipeline.schema.json', () => {
  it('is the current schema (regenerate with `npm run schema`)', () => {
    expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(renderSchema());
  });
});
