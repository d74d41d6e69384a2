import type { IndexSpec } from '../../config/pipeline';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { freshnessOf, type Freshness } from './freshness';
import type { PositionsSource } from './positions-source';

export interface WatermarkCacheOptions {
  /** How often a polled index's watermark is read again, ms. */
  refreshMs: number;
  /** A poller whose index saw no request for this long stops (and forgets the reading), ms. Default: 60000. */
  idleStopMs?: number;
  /** Pause between readings while a request waits for its write, ms. Default: 25. */
  waitPollMs?: number;
  log: Logger;
  /** After every successful reading (metrics). */
  onRead?: (index: string, f: Freshness) => void;
  now?: () => number;
}

/** Served when the watermark cannot be read and nothing was read before: answers are not cached. */
export const UNAVAILABLE = 'unavailable';

interface Entry {
  spec: IndexSpec;
  value?: Freshness;
  reading?: Promise<Freshness>;
  timer?: NodeJS.Timeout;
  lastUsed: number;
}

/**
 * The in-process copy of each index's freshness watermark. Requests read the copy; one poller
 * per index (started by the first request, stopped when the index goes idle) refreshes it every
 * `refreshMs`, so the request rate never multiplies watermark reads. Only read-your-writes waits
 * read more often, and concurrent readings of one index are shared.
 */
export class WatermarkCache {
  private readonly entries = new Map<string, Entry>();
  private lastErrorLog = 0;

  constructor(private readonly source: PositionsSource, private readonly opts: WatermarkCacheOptions) {}

  topicOf(index: IndexSpec): string {
    return this.source.topicOf(index);
  }

  async current(index: IndexSpec): Promise<Freshness> {
    const e = this.entry(index);
    return e.value ?? this.read(e);
  }

  /**
   * Waits until `satisfied` holds for a fresh reading, for at most `waitMs`. An index that never
   * published a watermark cannot catch up by waiting (no indexer writes it), so that answers at once.
   */
  async waitFor(index: IndexSpec, satisfied: (f: Freshness) => boolean, waitMs: number): Promise<{ freshness: Freshness; satisfied: boolean }> {
    const e = this.entry(index);
    const deadline = this.now() + waitMs;
    let f = e.value ?? (await this.read(e));
    for (;;) {
      if (satisfied(f)) return { freshness: f, satisfied: true };
      const left = deadline - this.now();
      if (left <= 0 || f.generation === 'none' || f.generation === UNAVAILABLE) return { freshness: f, satisfied: false };
      await new Promise((r) => setTimeout(r, Math.min(left, this.opts.waitPollMs ?? 25)));
      f = await this.read(e);
    }
  }

  /** Stops every poller. Safe to call twice. */
  close(): void {
    for (const e of this.entries.values()) if (e.timer) clearInterval(e.timer);
    this.entries.clear();
  }

  private entry(index: IndexSpec): Entry {
    let e = this.entries.get(index.name);
    if (!e) this.entries.set(index.name, (e = { spec: index, lastUsed: 0 }));
    e.lastUsed = this.now();
    if (!e.timer) {
      const polled = e;
      polled.timer = setInterval(() => this.poll(polled), this.opts.refreshMs);
      polled.timer.unref();
    }
    return e;
  }

  private poll(e: Entry): void {
    if (this.now() - e.lastUsed > (this.opts.idleStopMs ?? 60_000)) {
      clearInterval(e.timer);
      this.entries.delete(e.spec.name);
      return;
    }
    void this.read(e);
  }

  private read(e: Entry): Promise<Freshness> {
    e.reading ??= this.source
      .read(e.spec)
      .then((positions) => {
        const f = freshnessOf(positions);
        e.value = f;
        this.opts.onRead?.(e.spec.name, f);
        return f;
      })
      .catch((err: unknown) => {
        if (this.now() - this.lastErrorLog > 10_000) {
          this.lastErrorLog = this.now();
          this.opts.log.warn('reading the freshness watermark failed; answers are not cached until it works', { index: e.spec.name, err: errorMessage(err) });
        }
        // The last good reading stays valid (it only understates freshness); without one, say so.
        return e.value ?? { topic: this.source.topicOf(e.spec), positions: new Map(), lsn: undefined, asOfTime: undefined, generation: UNAVAILABLE };
      })
      .finally(() => {
        e.reading = undefined;
      });
    return e.reading;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}
