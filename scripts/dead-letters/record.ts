import type { KeyValue } from '../../core/change-event';
import type { RawMessage } from './kafka-reader';

/**
 * A dead letter as the tools show it. Ingest parks events Kafka could not carry or that broke the
 * change-event contract (partition -1: they never reached their topic; the row is not kept, only
 * its table and key, so replay re-reads it); the indexer parks documents Elasticsearch refused
 * (the document as built, its index, id and version, the commit LSN).
 */
export interface DeadLetter {
  /** `<partition>-<offset>` in the dead-letter topic: what `show` and `replay --ref` take. */
  ref: string;
  /** When it was parked (the dead-letter message's timestamp). */
  parkedAt: string;
  stage: 'ingest' | 'indexer';
  index?: string;
  id?: string;
  /** schema.table the change came from. */
  table?: string;
  key?: Record<string, KeyValue>;
  /** Where the change was: its topic, partition and offset (partition -1: it never reached the topic). */
  topic: string;
  partition: number;
  offset: string;
  lsn?: string;
  /** The change's commit LSN: the version its document carries. */
  commitLsn?: string;
  errorType: string;
  reason: string;
  /** Indexer: the document as built (JSON, "null" for a delete) or the message that failed to decode; ingest: the event without its row. */
  payload: string;
}

export function parseDeadLetter(m: RawMessage, topicPrefix: string): DeadLetter {
  let r: Record<string, unknown> = {};
  try {
    r = JSON.parse(m.value) as Record<string, unknown>;
  } catch {
    r = { errorType: 'unreadable_dead_letter', reason: 'the dead letter is not JSON', payload: m.value };
  }
  const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const payload = typeof r.payload === 'string' ? r.payload : '';
  const inner = parseObject(payload);
  const partition = typeof r.partition === 'number' ? r.partition : -1;
  const topic = s(r.topic) ?? '';
  const source = (r.source ?? inner?.source) as { schema?: string; table?: string } | undefined;
  const table = s(r.table) ?? (source?.schema && source.table ? `${source.schema}.${source.table}` : tableOfTopic(topic, topicPrefix));
  const key = (isObject(r.key) ? r.key : isObject(inner?.key) ? inner.key : undefined) as Record<string, KeyValue> | undefined;
  return {
    ref: `${m.partition}-${m.offset}`,
    parkedAt: new Date(Number(m.timestamp)).toISOString(),
    stage: r.stage === 'ingest' || r.stage === 'indexer' ? r.stage : partition === -1 ? 'ingest' : 'indexer',
    ...(s(r.index) ? { index: s(r.index) } : {}),
    ...(s(r.id) ? { id: s(r.id) } : {}),
    ...(table ? { table } : {}),
    ...(key ? { key } : {}),
    topic,
    partition,
    offset: s(r.offset) ?? '',
    ...(s(r.lsn) ? { lsn: s(r.lsn) } : {}),
    ...(s(r.commitLsn) ? { commitLsn: s(r.commitLsn) } : {}),
    errorType: s(r.errorType) ?? 'unknown',
    reason: typeof r.reason === 'string' ? r.reason : '',
    payload,
  };
}

function tableOfTopic(topic: string, prefix: string): string | undefined {
  return topic.startsWith(`${prefix}.`) && topic.split('.').length === 3 ? topic.slice(prefix.length + 1) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface DeadLetterFilter {
  /** Index name: the dead letter's own, or one its table feeds (ingest's carry no index). */
  index?: string;
  /** Matches the error type exactly or a part of the reason text. */
  reason?: string;
  since?: Date;
  until?: Date;
  id?: string;
  table?: string;
}

/** `tablesOf(index)`: the schema.table names an index is built from (pipeline config). */
export function matches(d: DeadLetter, f: DeadLetterFilter, tablesOf: (index: string) => readonly string[]): boolean {
  if (f.index && d.index !== f.index && !(d.index === undefined && d.table && tablesOf(f.index).includes(d.table))) return false;
  if (f.reason && d.errorType !== f.reason && !d.reason.toLowerCase().includes(f.reason.toLowerCase())) return false;
  const at = Date.parse(d.parkedAt);
  if (f.since && at < f.since.getTime()) return false;
  if (f.until && at > f.until.getTime()) return false;
  if (f.id && d.id !== f.id) return false;
  if (f.table && d.table !== f.table) return false;
  return true;
}

/** `--since`/`--until`: an ISO time, or a duration back from now (90s, 15m, 2h, 3d). */
export function parseTime(text: string, now = Date.now()): Date {
  const rel = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (rel) return new Date(now - Number(rel[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd']);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`${JSON.stringify(text)} is not a time: use an ISO time (2026-01-31T12:00:00Z) or a duration back from now (90s, 15m, 2h, 3d)`);
  return new Date(t);
}
