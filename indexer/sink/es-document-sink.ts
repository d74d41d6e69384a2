import type { Client } from '@elastic/elasticsearch';
import { PipelineError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { backoffDelayMs, sleep } from '../../core/retry';
import { bulkBody, type BulkOp } from '../transform/to-bulk-ops';
import { classifyItem } from './bulk-outcomes';

export interface DeadLetter { op: BulkOp; errorType: string; reason: string }

export interface DocumentSink {
  /** Resolves when every op is durable or returned as a dead letter; throws only on a fatal outcome. */
  write(ops: readonly BulkOp[], keepAlive: () => Promise<void>): Promise<DeadLetter[]>;
}

interface BulkItem { status: number; error?: { type?: string; reason?: string } }

/**
 * Elasticsearch _bulk with the outcome table: only failed items are sent again, with
 * exponential backoff and jitter. A whole-request failure (Elasticsearch down, 429/503)
 * is retried without bound: consumption stays paused meanwhile instead of buffering.
 */
export class EsDocumentSink implements DocumentSink {
  constructor(
    private readonly es: Client,
    private readonly log: Logger,
    private readonly opts: {
      maxUnknownRetries: number;
      onRetry?: (items: number) => void;
      onBulk?: (docs: number, ms: number, bytes: number) => void;
      /** +1 when a request starts waiting for Elasticsearch to come back (whole request failed), -1 when it got through. */
      onPaused?: (delta: 1 | -1) => void;
    },
  ) {}

  async write(ops: readonly BulkOp[], keepAlive: () => Promise<void>): Promise<DeadLetter[]> {
    const dead: DeadLetter[] = [];
    let pending = [...ops];
    let attempt = 0;
    let unknownAttempts = 0;
    let paused = false;
    const setPaused = (p: boolean): void => {
      if (p !== paused) this.opts.onPaused?.(p ? 1 : -1);
      paused = p;
    };
    try {
      while (pending.length) {
        if (attempt > 0) {
          await sleep(backoffDelayMs(attempt - 1, { initialMs: 100, maxMs: 10_000 }));
          await keepAlive();
        }
        attempt++;
        const items = await this.sendOnce(pending);
        setPaused(!items);
        if (!items) continue; // whole request failed; retry all
        pending = this.sortOutcomes(items, pending, dead, unknownAttempts >= this.opts.maxUnknownRetries, () => unknownAttempts++, attempt);
      }
    } finally {
      setPaused(false);
    }
    return dead;
  }

  /** Applies the outcome table to one response; returns the ops to send again. */
  private sortOutcomes(items: ReadonlyArray<Record<string, BulkItem>>, pending: readonly BulkOp[], dead: DeadLetter[], outOfRetries: boolean, countUnknown: () => void, attempt: number): BulkOp[] {
    const retry: BulkOp[] = [];
    let sawUnknown = false;
    items.forEach((entry, i) => {
      const op = pending[i] as BulkOp;
      // One item per document, keyed by its action: the usual answer (2xx) is settled without more.
      const item = entry[op.action] ?? (Object.values(entry)[0] as BulkItem);
      if (item.status >= 200 && item.status < 300) return;
      const outcome = classifyItem(item.status, item.error?.type, op.action);
      if (outcome === 'dead-letter') dead.push({ op, errorType: item.error?.type ?? `http_${item.status}`, reason: item.error?.reason ?? '' });
      else if (outcome === 'retry') retry.push(op);
      else if (outcome === 'unknown') {
        sawUnknown = true;
        retry.push(op);
        if (outOfRetries) {
          throw new PipelineError(`bulk item for ${op.index}/${op.id} keeps failing with ${item.status} ${item.error?.type ?? ''}: ${item.error?.reason ?? ''}; stopping this partition rather than skipping it`, {
            code: 'BULK_ITEM_UNKNOWN_FAILURE', retriable: false, context: { ...op.origin, lsn: op.lsn },
          });
        }
      }
    });
    if (sawUnknown) countUnknown();
    if (retry.length) {
      this.opts.onRetry?.(retry.length);
      this.log.warn('retrying failed bulk items', { items: retry.length, of: pending.length, attempt });
    }
    return retry;
  }

  private async sendOnce(ops: readonly BulkOp[]): Promise<Array<Record<string, BulkItem>> | undefined> {
    const started = Date.now();
    try {
      // Encoded once here: a string body would be measured and encoded again by the client.
      const body = bulkBody(ops);
      // Only what the outcome table reads: the full answer (ids, versions, shards, seq_no per
      // item) is several times larger and its parsing costs the indexer more CPU than building the request.
      const res = (await this.es.bulk({ body, filter_path: 'items.*.status,items.*.error.type,items.*.error.reason' } as never, { requestTimeout: 60_000 })) as unknown as { items?: Array<Record<string, BulkItem>> };
      this.opts.onBulk?.(ops.length, Date.now() - started, body.length);
      if (res.items?.length !== ops.length) throw new PipelineError(`Elasticsearch answered a bulk of ${ops.length} items with ${res.items?.length ?? 0} item results`, { code: 'BULK_ANSWER_INVALID', retriable: true });
      return res.items;
    } catch (err) {
      const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
      if (status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408) {
        throw new PipelineError(`Elasticsearch refused the bulk request with ${status}: ${errorMessage(err)}`, { code: 'BULK_REFUSED', retriable: false, cause: err });
      }
      this.opts.onRetry?.(ops.length);
      this.log.warn('bulk request failed; will retry', { err: errorMessage(err), docs: ops.length });
      return undefined;
    }
  }
}
