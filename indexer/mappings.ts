import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { FieldSpec, IndexSpec, RelationSpec } from '../config/pipeline';
import { replicationSettings } from '../core/elasticsearch';
import { PipelineError, errorMessage } from '../core/errors';
import { EXACT_MAX_CHARS, EXACT_SUBFIELD } from '../core/field-names';
import { REFS_FIELD } from './join/document-query';

/**
 * Index settings and mappings compiled from the pipeline config. Documents hold only the
 * configured fields, so `dynamic: false`: an unexpected key is kept in _source, never mapped
 * by guess. Text that is also facetable, filterable or sortable gets a `.raw` keyword sub-field;
 * searchable text gets `.exact`, its lower-cased whole value (core/field-names.ts), which ranking
 * and suggestions read (api/search/ranking.ts). Adding `.exact` changed the mapping hash of every
 * index with searchable text, so each reindexed itself on its indexer's next start.
 *
 * `suggest: true` adds nothing. It used to add a `.suggest` completion sub-field, which no API
 * route reads (/suggest runs a bool_prefix query on the text field itself, api/search/suggest.ts)
 * and which refuses a whole document whose value holds a character the completion format
 * reserves (U+0000, U+001E, U+001F): such rows went to the dead-letter topic. Dropping it
 * changes the mapping hash of indexes with a `suggest` field, so their next indexer start
 * reindexes them by itself.
 */
export function mappingFor(field: FieldSpec): Record<string, unknown> {
  switch (field.type) {
    case 'text': {
      const m: Record<string, unknown> = { type: 'text', analyzer: field.analyzer };
      const sub: Record<string, unknown> = {};
      if (field.facetable || field.sortable || field.filterable) sub.raw = { type: 'keyword', ignore_above: 1024 };
      // `lowercase` is a built-in normalizer: it needs no analysis settings (nor analysis-common).
      if (field.searchable) sub[EXACT_SUBFIELD] = { type: 'keyword', normalizer: 'lowercase', ignore_above: EXACT_MAX_CHARS };
      if (Object.keys(sub).length) m.fields = sub;
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

/**
 * `_refs` of joined documents (docs/joined-documents.md): every row a document was built from,
 * found again by an exact `terms` query when that row changes. Indexed, but no doc values (never
 * sorted or aggregated) and no field of the API's (not searchable).
 */
export const REFS_MAPPING = { type: 'keyword', doc_values: false };

/** A relation: `nested` or `object` for arrays as configured, `object` for one related row. */
export function relationMapping(rel: RelationSpec): Record<string, unknown> {
  return { type: rel.nested ? 'nested' : 'object', properties: propertiesOf(rel.fields, rel.relations) };
}

function propertiesOf(fields: readonly FieldSpec[], relations: readonly RelationSpec[]): Record<string, unknown> {
  return Object.fromEntries([...fields.map((f) => [f.name, mappingFor(f)]), ...relations.map((r) => [r.name, relationMapping(r)])]);
}

export interface IndexBody { settings: Record<string, unknown>; mappings: Record<string, unknown> }

/**
 * What the mapping hash covers. Replicas are left out (fixed at 0, as before they were configurable,
 * so existing indexes keep their hash): they change on the live index. Shards cannot, so they are in.
 */
function baseBody(spec: IndexSpec): IndexBody {
  return {
    settings: { number_of_shards: spec.shards ?? 1, number_of_replicas: 0, refresh_interval: '1s' },
    mappings: { dynamic: false, properties: spec.relations?.length ? { ...propertiesOf(spec.fields, spec.relations), [REFS_FIELD]: REFS_MAPPING } : propertiesOf(spec.fields, []) },
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
  return { settings: { ...replicationSettings(indexReplication(spec)), refresh_interval: BACKSTOP_REFRESH_INTERVAL }, mappings: { ...body.mappings, _meta: { mapping_hash: mappingHash(spec) } } };
}

/**
 * The indexer refreshes what it wrote itself, every INDEXER_WATERMARK_INTERVAL_MS, right before
 * it publishes the watermark (watermark/publisher.ts): that refresh is what makes its writes
 * searchable and what the watermark and the API's consistency tokens stand for. A periodic
 * refresh of the index's own on top of it (it was 1s) added a refresh per second that nothing
 * waits for, and Elasticsearch spent a fifth more CPU per document under the indexer than under a
 * bulk loader (docs/indexer.md, "Pipelining"). The long interval stays as a backstop for writes
 * that do not go through the indexer (scripts/dead-letters/replay.ts, a crashed indexer's
 * last writes) and is left out of the mapping hash (baseBody keeps its old value), so changing
 * it reindexes nothing: ensureIndex sets it on the live index.
 */
export const BACKSTOP_REFRESH_INTERVAL = '30s';

const indexReplication = (spec: IndexSpec): { shards: number; replicas?: number } => ({ shards: spec.shards ?? 1, replicas: spec.replicas });

/**
 * Sets the replicas the pipeline config asks for on the index behind the alias, when they differ:
 * unlike shards, replicas change on a live index (Elasticsearch copies or drops shard copies in
 * the background). Returns whether it changed anything.
 */
export async function applyReplicas(es: Client, spec: IndexSpec): Promise<boolean> {
  const res = await es.indices.getSettings({ index: spec.name, name: ['index.number_of_replicas', 'index.auto_expand_replicas'], flat_settings: true });
  const want = replicationSettings(indexReplication(spec));
  const wantAuto = String(want.auto_expand_replicas);
  const differs = Object.values(res).some(({ settings }) => {
    const s = (settings ?? {}) as Record<string, unknown>;
    const auto = String(s['index.auto_expand_replicas'] ?? 'false');
    return wantAuto === 'false' ? auto !== 'false' || String(s['index.number_of_replicas']) !== String(want.number_of_replicas) : auto !== wantAuto;
  });
  if (!differs) return false;
  const { number_of_shards: _shards, ...live } = want;
  await es.indices.putSettings({ index: spec.name, settings: { index: live } });
  return true;
}

/** Sets the backstop refresh interval on the index behind the alias when it has another (an index created before it). */
export async function applyRefreshInterval(es: Client, spec: IndexSpec): Promise<boolean> {
  const res = await es.indices.getSettings({ index: spec.name, name: ['index.refresh_interval'], flat_settings: true });
  const stale = Object.entries(res).filter(([, { settings }]) => (settings as Record<string, unknown> | undefined)?.['index.refresh_interval'] !== BACKSTOP_REFRESH_INTERVAL).map(([index]) => index);
  if (!stale.length) return false;
  await es.indices.putSettings({ index: stale, settings: { index: { refresh_interval: BACKSTOP_REFRESH_INTERVAL } } });
  return true;
}

/** Concrete indexes are versioned behind an alias named like the index, so a reindex can swap atomically. */
export function concreteIndexName(spec: IndexSpec, generation = 1): string {
  return `${spec.name}_v${generation}`;
}

export function templateName(spec: IndexSpec): string {
  return `search-pipeline-${spec.name}`;
}

/**
 * An index template (settings + mappings of the current config) for every generation
 * `<name>_vN`, so an index created by hand or by another tool for this alias gets the same mapping.
 * The priority sits above the built-in templates (`logs-*-*`… at 100), which a name could overlap.
 */
export async function ensureTemplate(es: Client, spec: IndexSpec): Promise<void> {
  await explainRefusal(spec, () => es.indices.putIndexTemplate({ name: templateName(spec), index_patterns: [`${spec.name}_v*`], priority: 500, template: indexBody(spec), _meta: { managed_by: 'search-pipeline indexer' } }));
}

/**
 * Elasticsearch refuses a mapping whose analyzer it lacks with a nested reason; say which
 * setting to change instead (the local distribution has no language analyzers).
 */
export async function explainRefusal<T>(spec: IndexSpec, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const analyzer = /analyzer \[([^\]]+)\] has not been configured/.exec(JSON.stringify((err as { body?: unknown }).body ?? errorMessage(err)))?.[1];
    if (!analyzer) throw err;
    throw new PipelineError(`index ${spec.name}: this Elasticsearch has no analyzer "${analyzer}" (the local distribution has standard, simple, stop, whitespace, keyword and pattern; language analyzers such as english need a full one). Change "analyzer" of the index or its fields in the pipeline config.`, {
      code: 'ANALYZER_UNAVAILABLE', retriable: false, cause: err, context: { index: spec.name, analyzer },
    });
  }
}

export type IndexState = 'created' | 'current' | 'mapping-changed';

/**
 * Creates `<name>_v1` behind the alias `<name>` if neither exists. An existing index is left as
 * is; 'mapping-changed' says its mapping was built from a different config (a reindex applies it).
 */
export async function ensureIndex(es: Client, spec: IndexSpec): Promise<IndexState> {
  if (await es.indices.exists({ index: spec.name })) {
    await applyReplicas(es, spec);
    await applyRefreshInterval(es, spec);
    return (await liveMappingHash(es, spec.name)) === mappingHash(spec) ? 'current' : 'mapping-changed';
  }
  try {
    await explainRefusal(spec, () => es.indices.create({ index: concreteIndexName(spec), ...indexBody(spec), aliases: { [spec.name]: { is_write_index: true } } }));
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
