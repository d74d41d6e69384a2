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

export function indexBody(spec: IndexSpec): { settings: Record<string, unknown>; mappings: Record<string, unknown> } {
  return {
    settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '1s' },
    mappings: { dynamic: false, properties: Object.fromEntries(spec.fields.map((f) => [f.name, mappingFor(f)])) },
  };
}

/** Concrete indexes are versioned behind an alias named like the index, so a reindex can swap atomically. */
export function concreteIndexName(spec: IndexSpec, generation = 1): string {
  return `${spec.name}_v${generation}`;
}

export async function ensureIndex(es: Client, spec: IndexSpec): Promise<void> {
  if (await es.indices.exists({ index: spec.name })) return;
  try {
    await es.indices.create({ index: concreteIndexName(spec), ...indexBody(spec), aliases: { [spec.name]: { is_write_index: true } } });
  } catch (err) {
    // Another indexer process created it first.
    if ((err as { body?: { error?: { type?: string } } }).body?.error?.type !== 'resource_already_exists_exception') throw err;
  }
}
