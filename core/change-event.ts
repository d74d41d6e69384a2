import Ajv from 'ajv';
import { PipelineError } from './errors';

/**
 * The one contract between stages (docs/change-event.md). Version 1.
 * LSNs are decimal strings: exact beyond 2^53, compared as BigInt, and usable as the
 * Elasticsearch external version without conversion.
 */
/**
 * c create, u update, d delete, r snapshot read, t truncate, h heartbeat. Truncates and heartbeats
 * carry an empty key and are produced to every partition of the topic, so each partition's stream
 * advances (freshness watermark) and a truncate is ordered against every row's changes.
 */
export type Op = 'c' | 'u' | 'd' | 'r' | 't' | 'h';
export type KeyValue = string | number | boolean;

export interface ChangeEvent {
  v: 1;
  op: Op;
  source: { schema: string; table: string };
  /** Primary-key columns. Empty only for a truncate. */
  key: Record<string, KeyValue>;
  /** The row after the change; absent on delete and truncate. */
  after?: Record<string, unknown>;
  /** Columns whose value was not sent (unchanged TOAST): keep what the document has. */
  unchanged?: string[];
  /** WAL position of this change. */
  lsn: string;
  /** WAL position of the transaction's commit record: the document version. */
  commitLsn: string;
  txId: number;
  /** Commit time, ISO 8601. */
  ts: string;
}

const DECIMAL = '^(0|[1-9][0-9]{0,19})$';
export const changeEventSchema = {
  $id: 'https://search-pipeline.local/schemas/change-event.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['v', 'op', 'source', 'key', 'lsn', 'commitLsn', 'txId', 'ts'],
  properties: {
    v: { const: 1 },
    op: { enum: ['c', 'u', 'd', 'r', 't', 'h'] },
    source: {
      type: 'object',
      additionalProperties: false,
      required: ['schema', 'table'],
      properties: { schema: { type: 'string', minLength: 1 }, table: { type: 'string', minLength: 1 } },
    },
    key: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    after: { type: 'object' },
    unchanged: { type: 'array', items: { type: 'string' } },
    lsn: { type: 'string', pattern: DECIMAL },
    commitLsn: { type: 'string', pattern: DECIMAL },
    txId: { type: 'integer', minimum: 0 },
    ts: { type: 'string', minLength: 1 },
  },
  allOf: [
    { if: { properties: { op: { enum: ['c', 'u', 'r'] } } }, then: { required: ['after'] } },
    { if: { properties: { op: { enum: ['d', 't', 'h'] } } }, then: { not: { required: ['after'] } } },
    { if: { properties: { op: { enum: ['t', 'h'] } } }, then: { properties: { key: { maxProperties: 0 } } } },
    { if: { properties: { op: { enum: ['c', 'u', 'r', 'd'] } } }, then: { properties: { key: { minProperties: 1 } } } },
  ],
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateFn = ajv.compile(changeEventSchema);

const OPS = new Set(['c', 'u', 'd', 'r', 't', 'h']);
const TOP_LEVEL = new Set(Object.keys(changeEventSchema.properties));
const DECIMAL_RE = new RegExp(DECIMAL);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

/**
 * The schema above written out by hand, for the common case of a valid event: Ajv's compiled
 * check (allErrors and the op-dependent allOf) was a sixth of decoding an event. It may only be
 * stricter than the schema, never looser: whatever it refuses goes to Ajv, which decides and
 * names the problems (change-event.test.ts holds the two against each other).
 */
export function isValidChangeEvent(e: unknown): boolean {
  if (!isObject(e)) return false;
  // for-in like Ajv's additionalProperties: inherited enumerable keys count too.
  for (const k in e) if (!TOP_LEVEL.has(k)) return false;
  const { op, source, key, after, unchanged } = e;
  if (e.v !== 1 || typeof op !== 'string' || !OPS.has(op)) return false;
  if (!isObject(source) || !nonEmptyString(source.schema) || !nonEmptyString(source.table)) return false;
  for (const k in source) if (k !== 'schema' && k !== 'table') return false;
  if (!isObject(key)) return false;
  let keyColumns = 0;
  for (const k in key) {
    const v = key[k];
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) return false;
    keyColumns++;
  }
  const rowChange = op === 'c' || op === 'u' || op === 'r';
  if (rowChange ? !isObject(after) : after !== undefined) return false;
  if ((op === 't' || op === 'h') ? keyColumns !== 0 : keyColumns === 0) return false;
  if (unchanged !== undefined && !(Array.isArray(unchanged) && unchanged.every((c) => typeof c === 'string'))) return false;
  if (typeof e.lsn !== 'string' || !DECIMAL_RE.test(e.lsn) || typeof e.commitLsn !== 'string' || !DECIMAL_RE.test(e.commitLsn)) return false;
  return Number.isInteger(e.txId) && (e.txId as number) >= 0 && nonEmptyString(e.ts);
}

export class InvalidEventError extends PipelineError {
  constructor(readonly problems: string[]) {
    super(`invalid change event: ${problems.join('; ')}`, { code: 'EVENT_INVALID', retriable: false });
  }
}

/** Returns the problems with `value` as a change event; empty when it is valid. */
export function eventProblems(value: unknown): string[] {
  if (isValidChangeEvent(value) || validateFn(value)) return [];
  return (validateFn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

export function assertChangeEvent(value: unknown): ChangeEvent {
  const problems = eventProblems(value);
  if (problems.length > 0) throw new InvalidEventError(problems);
  return value as ChangeEvent;
}

export function decodeChangeEvent(bytes: Buffer | string): ChangeEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString());
  } catch (err) {
    throw new InvalidEventError([`not JSON: ${(err as Error).message}`]);
  }
  return assertChangeEvent(parsed);
}

/**
 * Canonical primary-key form: columns sorted by name, so every producer (CDC or an upstream
 * service) puts all changes of one row on the same Kafka partition.
 */
export function canonicalKey(key: Record<string, KeyValue>): string {
  const names = Object.keys(key);
  // Most tables have a one-column key: the same text without sorting and copying (a 4 % of
  // ingest's CPU per row, bench/ingest-cpu.bench.ts).
  if (names.length === 1) return `{${JSON.stringify(names[0])}:${JSON.stringify(key[names[0]!])}}`;
  names.sort();
  return JSON.stringify(Object.fromEntries(names.map((n) => [n, key[n]])));
}

/** Elasticsearch _id: the bare value for a one-column key, the canonical form otherwise. */
export function documentId(key: Record<string, KeyValue>): string {
  const names = Object.keys(key);
  if (names.length === 1) return String(key[names[0] as string]);
  return canonicalKey(key);
}

export function topicFor(prefix: string, source: { schema: string; table: string }): string {
  return `${prefix}.${source.schema}.${source.table}`;
}
