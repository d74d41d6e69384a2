import type { Client } from '@elastic/elasticsearch';
import { PipelineError } from '../../core/errors';
import type { IndexSpec } from '../../config/pipeline';
import { concreteIndexName, ensureTemplate, explainRefusal, indexBody } from '../mappings';

/** Topic → partition → offset: where a generation's contents are known to be complete. */
export type Offsets = Record<string, Record<string, string>>;

/** What a generation records about itself in its mapping `_meta`, next to the mapping hash. */
export interface GenerationMeta {
  mapping_hash?: string;
  /** The concrete index the alias pointed to before this one took over. */
  previous?: string;
  /** Offsets up to which both this and the previous generation held every change at the swap. */
  cut?: Offsets;
}

/** The concrete index behind the alias `name` (refuses an alias over several indexes: not ours). */
export async function aliasTarget(es: Client, name: string): Promise<string> {
  const res = await es.indices.getAlias({ name }, { ignore: [404] });
  const targets = Object.keys(res ?? {}).filter((k) => k !== 'error' && k !== 'status');
  if (targets.length !== 1) {
    throw new PipelineError(`alias ${name} points to ${targets.length ? targets.join(', ') : 'no index'}; expected exactly one concrete index (${name}_vN). Start the indexer once to create it, or fix the alias by hand.`, { code: 'ALIAS_INVALID', retriable: false, context: { index: name } });
  }
  return targets[0]!;
}

/** Generation numbers of the existing `<name>_vN` indexes. */
export async function generations(es: Client, name: string): Promise<number[]> {
  const res = await es.indices.get({ index: `${name}_v*`, expand_wildcards: 'open' }, { ignore: [404] });
  const re = new RegExp(`^${name.replace(/[-]/g, '\\-')}_v(\\d+)$`);
  return Object.keys(res ?? {}).flatMap((k) => {
    const m = re.exec(k);
    return m ? [Number(m[1])] : [];
  }).sort((a, b) => a - b);
}

/** Creates the next generation with the mapping of the current config, not behind the alias yet. */
export async function createNextGeneration(es: Client, spec: IndexSpec): Promise<string> {
  const next = Math.max(0, ...(await generations(es, spec.name))) + 1;
  const index = concreteIndexName(spec, next);
  const body = indexBody(spec);
  // Replay writes as fast as Elasticsearch takes them (only the backstop refresh); the alias swap refreshes first.
  await ensureTemplate(es, spec);
  await explainRefusal(spec, () => es.indices.create({ index, settings: body.settings, mappings: body.mappings }));
  return index;
}

export async function readMeta(es: Client, index: string): Promise<GenerationMeta> {
  const res = await es.indices.getMapping({ index });
  return ((res[index]?.mappings._meta ?? {}) as GenerationMeta);
}

/** Merges into the index's `_meta` (a put-mapping `_meta` replaces the whole object). */
export async function writeMeta(es: Client, index: string, patch: GenerationMeta): Promise<void> {
  await es.indices.putMapping({ index, _meta: { ...(await readMeta(es, index)), ...patch } as Record<string, unknown> });
}

/**
 * Points the alias from `from` to `to` in one `_aliases` request: Elasticsearch applies the remove
 * and the add atomically, so every search sees exactly one of the two indexes, never none or both.
 */
export async function swapAlias(es: Client, name: string, from: string, to: string): Promise<void> {
  await es.indices.refresh({ index: to });
  await es.indices.updateAliases({
    actions: [
      { remove: { index: from, alias: name } },
      { add: { index: to, alias: name, is_write_index: true } },
    ],
  });
}
