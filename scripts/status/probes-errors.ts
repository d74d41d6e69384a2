import fs from 'node:fs';
import path from 'node:path';
import type { ErrorCounter, ErrorsPart, LogLine } from './model';
import { samplesOf, type Sample } from './prom-text';

/** Counters that count failures, per service (non-zero ones are shown). */
const ERROR_METRICS: Record<string, Array<{ metric: string; where?: (s: Sample) => boolean }>> = {
  ingest: [{ metric: 'ingest_errors_total' }],
  indexer: [{ metric: 'indexer_retried_items_total' }, { metric: 'indexer_unchanged_unresolved_total' }],
  api: [
    { metric: 'api_request_seconds_count', where: (s) => (s.labels.status ?? '').startsWith('5') },
    { metric: 'api_elasticsearch_seconds_count', where: (s) => s.labels.outcome === 'error' },
    { metric: 'api_cache_redis_errors_total' },
  ],
};

/**
 * Error counters since each service started (from /metrics) and the last error lines of the
 * services' logs when they are readable here (the local stack's .stack/logs, or STATUS_LOGS_DIR).
 */
export function probeErrors(metrics: Partial<Record<string, Sample[]>>, logsDir: string | undefined, lines = 5): ErrorsPart {
  const counters: ErrorCounter[] = [];
  for (const [service, wanted] of Object.entries(ERROR_METRICS)) {
    const samples = metrics[service];
    if (!samples) continue;
    for (const w of wanted) for (const s of samplesOf(samples, w.metric, true).filter(w.where ?? (() => true))) counters.push({ service, metric: s.name, labels: s.labels, value: s.value });
  }
  const recent = logsDir ? lastErrorLines(logsDir, lines) : [];
  const fatal = counters.some((c) => c.metric === 'ingest_errors_total' && c.labels.kind === 'fatal');
  return { health: fatal ? 'fail' : counters.length || recent.length ? 'warn' : 'ok', counters, recent, ...(logsDir ? {} : { note: 'no log folder (STATUS_LOGS_DIR): only counters' }) };
}

/** The last error-level JSON lines of ingest, indexer and api logs, newest first. */
export function lastErrorLines(dir: string, n: number): LogLine[] {
  const out: LogLine[] = [];
  for (const service of ['ingest', 'indexer', 'api']) {
    for (const line of tail(path.join(dir, `${service}.log`), 256 * 1024).split('\n')) {
      if (!line.includes('"level":"error"')) continue;
      try {
        const j = JSON.parse(line) as { t?: string; msg?: string; err?: { message?: string }; message?: string };
        const why = j.err?.message ?? j.message;
        out.push({ service, ...(j.t ? { at: j.t } : {}), message: `${j.msg ?? ''}${why && why !== j.msg ? `: ${why}` : ''}`.slice(0, 400) });
      } catch {
        // a line cut by the tail window
      }
    }
  }
  return out.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? '')).slice(0, n);
}

function tail(file: string, bytes: number): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, bytes));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
