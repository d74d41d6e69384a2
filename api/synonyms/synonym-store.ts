import type { Client } from '@elastic/elasticsearch';

/**
 * Where each index's synonym rules live (the port; the API never imports a client elsewhere).
 * Rules are per index, shared by every tenant of it, and read at query time: a change needs no
 * reindex.
 */
export interface SynonymStore {
  read(index: string): Promise<string[]>;
  write(index: string, rules: string[]): Promise<void>;
}

/**
 * One document per index in a small Elasticsearch index beside the pipeline's other state
 * (`search_pipeline_state`, `search_pipeline_leases`). Elasticsearch rather than Redis: the API
 * always has Elasticsearch and only needs Redis for keys and the shared cache, and the rules then
 * live (and are backed up) with the indexes they shape. A realtime get reads a write at once, on
 * every API instance.
 */
export const SYNONYMS_INDEX = 'search_pipeline_synonyms';

export class EsSynonymStore implements SynonymStore {
  private created = false;

  constructor(private readonly es: Client, private readonly indexName = SYNONYMS_INDEX) {}

  async read(index: string): Promise<string[]> {
    const res = await this.es.get<{ rules?: unknown }>({ index: this.indexName, id: index }, { ignore: [404] });
    const rules = res.found ? res._source?.rules : undefined;
    return Array.isArray(rules) ? rules.filter((r): r is string => typeof r === 'string') : [];
  }

  async write(index: string, rules: string[]): Promise<void> {
    if (!this.created) {
      // Not left to auto-creation (may be off in production) nor to dynamic mapping: the rules are data, not searched.
      await this.es.indices.create({ index: this.indexName, settings: { number_of_shards: 1, auto_expand_replicas: '0-1' }, mappings: { dynamic: false, properties: { updatedAt: { type: 'date' } } } }, { ignore: [400] });
      this.created = true;
    }
    await this.es.index({ index: this.indexName, id: index, document: { index, rules, updatedAt: new Date().toISOString() } });
  }
}

/** Process-local rules: unit tests, and an app built without a store. */
export class MemorySynonymStore implements SynonymStore {
  private readonly rules = new Map<string, string[]>();
  async read(index: string): Promise<string[]> {
    return [...(this.rules.get(index) ?? [])];
  }
  async write(index: string, rules: string[]): Promise<void> {
    this.rules.set(index, [...rules]);
  }
}
