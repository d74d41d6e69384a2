/**
 * The live measurements of bench/joined.bench.ts, for any contender that turns row changes into
 * searchable documents: a sustained rate (writers flat out, then the time until caught up) and
 * commit-to-searchable latency (a paced background mix with probes, each a unique marker found by
 * a search). The workload (which rows change, how a probe writes its marker) is the caller's.
 */
import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { minus, type TableStats } from './pg-table-stats';

export interface Workload {
  es: EsClient;
  /** How often the open probes are searched for. */
  pollMs: number;
  /** One change of the background mix, on this writer's connection. */
  change: (writer: Client) => Promise<void>;
  /** A probe: a unique marker written; resolves when COMMIT has returned. */
  probeWrite: (writer: Client) => Promise<{ marker: number; committedAt: number }>;
  /** The workload schema's table statistics, once settled. */
  settledStats: () => Promise<TableStats>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type MarkerQuery = (marker: number) => Record<string, unknown>;
export const nestedMarker: MarkerQuery = (m) => ({ nested: { path: 'items', query: { term: { 'items.qty': m } } } });
export const objectMarker: MarkerQuery = (m) => ({ term: { 'items.qty': m } });

/** Polls one _msearch of every open probe each `pollMs`; `wait` resolves at the first search that finds its marker. */
export function probeWatcher(w: Pick<Workload, 'es' | 'pollMs'>, index: string, query: MarkerQuery) {
  const open = new Map<number, (at: number) => void>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const markers = [...open.keys()];
      if (markers.length) {
        const searches = markers.flatMap((m) => [{ index }, { size: 0, track_total_hits: 1, query: query(m) }]);
        const res = await w.es.msearch({ searches }).catch(() => undefined);
        const at = performance.now();
        res?.responses.forEach((r, i) => {
          const total = (r as { hits?: { total?: { value: number } } }).hits?.total?.value ?? 0;
          if (total > 0) {
            open.get(markers[i]!)?.(at);
            open.delete(markers[i]!);
          }
        });
      }
      await sleep(w.pollMs);
    }
  })();
  return {
    wait: (marker: number, timeoutMs = 120_000): Promise<number> => new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        open.delete(marker);
        reject(new Error(`marker ${marker} not visible in ${index} after ${timeoutMs} ms`));
      }, timeoutMs);
      open.set(marker, (at) => {
        clearTimeout(t);
        resolve(at);
      });
    }),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

export type ProbeWatcher = ReturnType<typeof probeWatcher>;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

export interface Contender {
  name: string;
  index: string;
  markerQuery: MarkerQuery;
  /** Resolves once every change committed before the call is searchable. */
  caughtUp: (writers: Client[], watcher: ProbeWatcher) => Promise<void>;
  /** Postgres queries the contender made so far, where they can be counted. */
  queries?: () => Promise<number>;
}

export interface Sustained { changes: number; writeSecs: number; totalSecs: number; rate: number; writeRate: number; stats: TableStats; queries: number }
/** Writers flat out for `secs`, then the time until the contender caught up. */
export async function sustained(w: Workload, c: Contender, writers: Client[], secs: number): Promise<Sustained> {
  const watcher = probeWatcher(w, c.index, c.markerQuery);
  const stats0 = await w.settledStats();
  const q0 = (await c.queries?.()) ?? NaN;
  let changes = 0;
  const start = performance.now();
  const until = start + secs * 1000;
  await Promise.all(writers.map(async (writer) => {
    while (performance.now() < until) {
      await w.change(writer);
      changes++;
    }
  }));
  const writeSecs = (performance.now() - start) / 1000;
  await c.caughtUp(writers, watcher);
  const totalSecs = (performance.now() - start) / 1000;
  const queries = ((await c.queries?.()) ?? NaN) - q0;
  await watcher.stop();
  const stats = minus(await w.settledStats(), stats0);
  return { changes, writeSecs, totalSecs, rate: changes / totalSecs, writeRate: changes / writeSecs, stats, queries };
}

export interface Latency { rate: number; achieved: number; probes: number; p50: number; p90: number; p99: number; max: number }
/** The background mix paced at `rate` changes/s over the writers, and `probes` probes spread over `secs`. */
export async function latency(w: Workload, c: Contender, writers: Client[], rate: number, secs: number, probes: number): Promise<Latency> {
  const watcher = probeWatcher(w, c.index, c.markerQuery);
  const lat: number[] = [];
  const waits: Array<Promise<void>> = [];
  const start = performance.now();
  const end = start + secs * 1000;
  const probeEvery = (secs * 1000) / probes;
  let nextProbe = start + probeEvery / 2;
  let done = 0;
  const free = [...writers];
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; ; i++) {
    const due = start + (i * 1000) / rate;
    if (due >= end) break;
    const now = performance.now();
    if (due > now) await sleep(due - now);
    while (!free.length) await Promise.race(inFlight);
    const writer = free.pop()!;
    const isProbe = performance.now() >= nextProbe;
    if (isProbe) nextProbe += probeEvery;
    const p: Promise<void> = (async () => {
      if (isProbe) {
        const { marker, committedAt } = await w.probeWrite(writer);
        waits.push(watcher.wait(marker).then((at) => void lat.push(at - committedAt)));
      } else await w.change(writer);
      done++;
    })().finally(() => {
      free.push(writer);
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  const achieved = done / ((performance.now() - start) / 1000);
  await Promise.all(waits);
  await watcher.stop();
  return { rate, achieved, probes: lat.length, p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99), max: Math.max(...lat) };
}
