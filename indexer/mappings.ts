import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { FieldSpec, IndexSpec } from '../config/pipeline';

/**
 * Index settings and mappings compiled from the pipeline config. Documents hold only the
 * configured fields, so `dynamic: false`: an unexpected key is kept in _source, never mapped
 * by guess. Text that is also facetable, filterable or sortable gets a `.raw` keyword sub-field.
 */
export function mappingFor(field: FieldSpec): Record<string, unknown> {
  switch (field.type) {
    case 'text': {
      const m: Record<string, unknown> = { type: 'text', analyzer: field.analyzer };
      if (field.facetable || field.sortable || field.filterable) m.fields = { raw: { type: 'keyword', ignore_above: 1024 } };
      return m;
    }
    case 'keyword':
      return { type: 'keyword', ignore_above: 8191 };
    case 'date':
      return { type: 'date', format: 'strict_date_optional_time||epoch_millis' };
    default:
      return { type: field.type };
  }
}

export interface IndexBody { settings: Record<string, unknown>; mappings: Record<string, unknown> }

function baseBody(spec: IndexSpec): IndexBody {
  return {
    settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '1s' },
    mappings: { dynamic: false, properties: Object.fromEntries(spec.fields.map((f) => [f.name, mappingFor(f)])) },
  };
}

/**
 * Hash of what the pipeline config makes of this index (settings + mappings). Stored in the
 * index's mapping `_meta`, so a changed config is noticed by comparing hashes instead of diffing
 * the mapping Elasticsearch returns (which adds defaults and reorders keys).
 */
export function mappingHash(spec: IndexSpec): string {
  return createHash('sha256').update(JSON.stringify(baseBody(spec))).digest('hex').slice(0, 16);
}

export function indexBody(spec: IndexSpec): IndexBody {
  const body = baseBody(spec);
  return { settings: body.settings, mappings: { ...body.mappings, _meta: { mapping_hash: mappingHash(spec) } } };
}

/** Concrete indexes are versioned behind an alias named like the index, so a reindex can swap atomically. */
export function concreteIndexName(spec: IndexSpec, generation = 1): string {
  return `${spec.name}_v${generation}`;
}

export type IndexState = 'created' | 'current' | 'mapping-changed';

/**
 * Creates `<name>_v1` behind the alias `<name>` if neither exists. An existing index is left as
 * is; 'mapping-changed' says its mapping was built from a different config (a reindex applies it).
 */
export async function ensureIndex(es: Client, spec: IndexSpec): Promise<IndexState> {
  if (await es.indices.exists({ index: spec.name })) return (await liveMappingHash(es, spec.name)) === mappingHash(spec) ? 'current' : 'mapping-changed';
  try {
    await es.indices.create({ index: concreteIndexName(spec), ...indexBody(spec), aliases: { [spec.name]: { is_write_index: true } } });
  } catch (err) {
    // Another indexer process created it first.
    if ((err as { body?: { error?: { type?: string } } }).body?.error?.type !== 'resource_already_exists_exception') throw err;
  }
  return 'created';
}

/** The mapping hash recorded in the `_meta` of the index (or the one index behind the alias) `name`. */
export async function liveMappingHash(es: Client, name: string): Promise<string | undefined> {
  const res = await es.indices.getMapping({ index: name });
  const metas = Object.values(res).map((m) => (m.mappings._meta as { mapping_hash?: string } | undefined)?.mapping_hash);
  return metas.length === 1 ? metas[0] : undefined;
}
