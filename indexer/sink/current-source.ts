import type { Client } from '@elastic/elasticsearch';
import { PipelineError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { backoffDelayMs, sleep } from '../../core/retry';
import type { CurrentRequest } from '../transform/unchanged-fields';

interface MgetDoc { _index?: string; _id?: string; found?: boolean; _source?: Record<string, unknown>; error?: { type?: string; reason?: string } }

/** Documents per _mget request: the fields read are large by nature (TOAST values). */
const DOCS_PER_REQUEST = 200;

/**
 * Reads the current source of some fields of documents, for merging unchanged TOAST values
 * (transform/unchanged-fields.ts). Realtime _mget through the name the op writes to (the alias,
 * or a reindex's concrete generation): it sees every write already acknowledged, refreshed or not.
 * Retried like a bulk request while Elasticsearch is unavailable (consumption waits meanwhile);
 * a request Elasticsearch refuses as malformed stops the partition.
 *
 * Values come back JSON-parsed: exact, because the columns that can be out of line (text, jsonb,
 * bytea, numeric, arrays) reach the document as strings, never as numbers beyond 2^53.
 */
export class EsCurrentSource {
  constructor(private readonly es: Client, private readonly log: Logger) {}

  async read(wanted: readonly CurrentRequest[], keepAlive: () => Promise<void>): Promise<Array<Record<string, unknown> | undefined>> {
    const out: Array<Record<string, unknown> | undefined> = [];
    for (let i = 0; i < wanted.length; i += DOCS_PER_REQUEST) out.push(...(await this.readChunk(wanted.slice(i, i + DOCS_PER_REQUEST), keepAlive)));
    return out;
  }

  private async readChunk(wanted: readonly CurrentRequest[], keepAlive: () => Promise<void>): Promise<Array<Record<string, unknown> | undefined>> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        await sleep(backoffDelayMs(attempt - 1, { initialMs: 100, maxMs: 10_000 }));
        await keepAlive();
      }
      try {
        const res = await this.es.mget<Record<string, unknown>>({ docs: wanted.map((w) => ({ _index: w.index, _id: w.id, _source: [...w.fields] })), realtime: true }, { requestTimeout: 60_000 });
        if (res.docs.length !== wanted.length) throw new Error(`_mget answered ${res.docs.length} of ${wanted.length} documents`);
        return (res.docs as MgetDoc[]).map((d) => {
          // No index behind the name yet: no document either.
          if (d.error?.type === 'index_not_found_exception') return undefined;
          if (d.error) throw new Error(`reading ${d._index ?? ''}/${d._id ?? ''} failed: ${d.error.type ?? ''} ${d.error.reason ?? ''}`);
          return d.found ? (d._source ?? {}) : undefined;
        });
      } catch (err) {
        const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
        if (status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408 && status !== 404) {
          throw new PipelineError(`Elasticsearch refused reading current documents with ${status}: ${errorMessage(err)}`, { code: 'MGET_REFUSED', retriable: false, cause: err });
        }
        this.log.warn('reading current documents for unchanged TOAST fields failed; will retry', { err: errorMessage(err), docs: wanted.length, attempt });
      }
    }
  }
}
