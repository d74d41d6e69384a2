import { parsePipelineConfig } from '../config/pipeline';
import { PipelineError } from '../core/errors';
import { es, uniqueName } from '../e2e/support/services';
import { BACKSTOP_REFRESH_INTERVAL, ensureIndex, ensureTemplate, templateName } from './mappings';
import { createNextGeneration } from './reindex/generations';

/** The mapping code against the real Elasticsearch: templates, suggest fields, analyzers. */
describe('index templates and mappings on Elasticsearch', () => {
  const client = es();
  const made: string[] = [];
  const templates: string[] = [];
  const specOf = (index: Record<string, unknown>, fields: Record<string, unknown>) => {
    const name = uniqueName('map');
    return parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [name]: { table: 'books', ...index, fields } } })).indexes[0]!;
  };

  afterAll(async () => {
    for (const index of made) await client.indices.delete({ index }, { ignore: [404] });
    for (const name of templates) await client.indices.deleteIndexTemplate({ name }, { ignore: [404] });
    await client.close();
  });

  it('gives an index the configured shards and replicas, changes replicas on the live index, and a reindex takes new shards', async () => {
    const settingsOf = async (index: string) => {
      const res = await client.indices.getSettings({ index, flat_settings: true });
      const s = Object.values(res)[0]!.settings as Record<string, string>;
      return { shards: s['index.number_of_shards'], replicas: s['index.number_of_replicas'], auto: s['index.auto_expand_replicas'] };
    };
    const fields = { title: { type: 'text', searchable: true } };
    const spec = specOf({ shards: 2, replicas: 0 }, fields);
    templates.push(templateName(spec));
    made.push(`${spec.name}_v1`, `${spec.name}_v2`);
    expect(await ensureIndex(client, spec)).toBe('created');
    expect(await settingsOf(spec.name)).toEqual({ shards: '2', replicas: '0', auto: 'false' });
    // More replicas: applied in place, no reindex (a single node leaves the copy unassigned, yellow).
    expect(await ensureIndex(client, { ...spec, replicas: 1 })).toBe('current');
    expect(await settingsOf(spec.name)).toEqual({ shards: '2', replicas: '1', auto: 'false' });
    // Replicas unset: 0-1 following the cluster.
    expect(await ensureIndex(client, { ...spec, replicas: undefined })).toBe('current');
    expect((await settingsOf(spec.name)).auto).toBe('0-1');
    // Other shards: flagged for a reindex, whose next generation has them.
    const reshard = { ...spec, shards: 3 };
    expect(await ensureIndex(client, reshard)).toBe('mapping-changed');
    const next = await createNextGeneration(client, reshard);
    expect(next).toBe(`${spec.name}_v2`);
    expect(await settingsOf(next)).toEqual({ shards: '3', replicas: '0', auto: 'false' });
  });

  it('leaves refreshing to the indexer: a long backstop interval, also set on an index made before it', async () => {
    const intervalOf = async (index: string) => {
      const res = await client.indices.getSettings({ index, name: 'index.refresh_interval', flat_settings: true });
      return (Object.values(res)[0]!.settings as Record<string, string>)['index.refresh_interval'];
    };
    const spec = specOf({}, { title: { type: 'text', searchable: true } });
    made.push(`${spec.name}_v1`);
    expect(await ensureIndex(client, spec)).toBe('created');
    expect(await intervalOf(spec.name)).toBe(BACKSTOP_REFRESH_INTERVAL);
    // As every index was before: refreshed every second on top of the indexer's own refreshes.
    await client.indices.putSettings({ index: spec.name, settings: { refresh_interval: '1s' } });
    expect(await ensureIndex(client, spec)).toBe('current'); // not a mapping change: nothing to reindex
    expect(await intervalOf(spec.name)).toBe(BACKSTOP_REFRESH_INTERVAL);
  });

  it('creates a template for every generation and a mapping that takes any text in a suggest field', async () => {
    const spec = specOf({}, { title: { type: 'text', searchable: true, suggest: true, facetable: true }, year: { type: 'integer' } });
    templates.push(templateName(spec));
    made.push(`${spec.name}_v1`, `${spec.name}_v7`);
    await ensureTemplate(client, spec);
    expect(await ensureIndex(client, spec)).toBe('created');
    expect(await ensureIndex(client, spec)).toBe('current');
    // The config changed (another analyzer): the live index is left as is and flagged for a reindex.
    const changed = { ...spec, fields: spec.fields.map((f) => (f.name === 'title' ? { ...f, analyzer: 'simple' } : f)) };
    expect(await ensureIndex(client, changed)).toBe('mapping-changed');

    // U+001F (and U+0000, U+001E) are reserved by the completion format: with a completion
    // sub-field the whole document was refused (document_parsing_exception) and dead-lettered.
    const res = await client.bulk({ refresh: true, operations: [{ index: { _index: spec.name, _id: '1' } }, { title: 'Street\u001fFighter II', year: 1991 }, { index: { _index: spec.name, _id: '2' } }, { title: 'Street Fighter\u0000\u001e Alpha', year: 1995 }] });
    expect(res.items.map((i) => i.index?.error?.type ?? i.index?.status)).toEqual([201, 201]);
    // The API's suggestions (a prefix query on the lower-cased whole value) find them.
    const found = await client.search({ index: spec.name, query: { prefix: { 'title.exact': { value: 'street' } } } });
    expect(found.hits.hits.map((h) => h._id).sort()).toEqual(['1', '2']);

    // An index of this alias made by something else still gets the config's mapping.
    await client.indices.create({ index: `${spec.name}_v7` });
    const m = await client.indices.getMapping({ index: `${spec.name}_v7` });
    expect(m[`${spec.name}_v7`]!.mappings.properties!.title).toEqual({ type: 'text', analyzer: 'standard', fields: { raw: { type: 'keyword', ignore_above: 1024 }, exact: { type: 'keyword', normalizer: 'lowercase', ignore_above: 256 } } });
  });

  it('says which analyzer is missing and where to change it', async () => {
    const spec = specOf({ analyzer: 'english' }, { title: { type: 'text', searchable: true } });
    templates.push(templateName(spec));
    made.push(`${spec.name}_v1`);
    const hasEnglish = await client.indices.analyze({ analyzer: 'english', text: 'x' }).then(() => true, () => false);
    if (hasEnglish) {
      // A full distribution: the switch works.
      await ensureTemplate(client, spec);
      expect(await ensureIndex(client, spec)).toBe('created');
      return;
    }
    const err = await ensureIndex(client, spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineError);
    expect(err).toMatchObject({ code: 'ANALYZER_UNAVAILABLE', retriable: false });
    expect((err as Error).message).toMatch(/no analyzer "english"[\s\S]*Change "analyzer"/);
    await expect(ensureTemplate(client, spec)).rejects.toMatchObject({ code: 'ANALYZER_UNAVAILABLE' });
  });
});
