import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { compileSynonyms, NO_SYNONYMS, type CompiledSynonyms } from './rules';
import type { SynonymStore } from './synonym-store';

export interface SynonymCacheOptions {
  /** How long compiled rules are served before the store is read again, ms. Default: 1000. */
  refreshMs?: number;
  log?: Logger;
  now?: () => number;
}

interface Entry {
  value?: CompiledSynonyms;
  readAt: number;
  reading?: Promise<CompiledSynonyms>;
}

/**
 * Compiled rules per index, so a search does not read the store: the first request of an index
 * waits for the read, later ones get the copy, and once it is `refreshMs` old the next request
 * starts a background re-read while still using it. A write through this instance is seen at
 * once; other API instances see it within `refreshMs` (plus one request).
 */
export class SynonymCache {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(private readonly store: SynonymStore, private readonly opts: SynonymCacheOptions = {}) {
    this.refreshMs = opts.refreshMs ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  async get(index: string): Promise<CompiledSynonyms> {
    const e = this.entries.get(index) ?? { readAt: 0 };
    this.entries.set(index, e);
    if (e.value && this.now() - e.readAt < this.refreshMs) return e.value;
    const reading = e.reading ?? this.read(index, e);
    return e.value ?? reading;
  }

  /** Validates (a 400 names the bad rule), stores, and serves the new rules here at once. */
  async put(index: string, rules: readonly unknown[]): Promise<CompiledSynonyms> {
    const compiled = compileSynonyms(rules);
    await this.store.write(index, [...compiled.rules]);
    this.entries.set(index, { value: compiled, readAt: this.now() });
    return compiled;
  }

  private read(index: string, e: Entry): Promise<CompiledSynonyms> {
    e.reading = this.store
      .read(index)
      .then((rules) => {
        // Stored rules were valid when written; a rule refused by a newer version is dropped, not fatal.
        const value = safeCompile(rules, this.opts.log, index);
        if (this.entries.get(index) === e) Object.assign(e, { value, readAt: this.now() });
        return value;
      })
      .catch((err: unknown) => {
        // Searching on without synonyms beats failing every search while the store is away.
        this.opts.log?.warn('synonyms unreadable; searching without them', { index, err: errorMessage(err) });
        return e.value ?? NO_SYNONYMS;
      })
      .finally(() => {
        e.reading = undefined;
      });
    return e.reading;
  }
}

function safeCompile(rules: string[], log: Logger | undefined, index: string): CompiledSynonyms {
  try {
    return compileSynonyms(rules);
  } catch (err) {
    log?.warn('stored synonyms invalid; searching without them', { index, err: errorMessage(err) });
    return NO_SYNONYMS;
  }
}
