import { canonicalKey, eventProblems, topicFor, type ChangeEvent } from '../../core/change-event';
import { enforceTenant } from './tenant-check';

/**
 * Turns one line of a request into a Kafka-ready event, or says exactly what is wrong with it.
 * On top of the contract's JSON schema, the intake refuses what would be lost or corrupted
 * further down instead of carrying it: integers JSON numbers cannot hold exactly, versions
 * Elasticsearch cannot store, nesting deep enough to break serializers, records over the broker's
 * size limit, and tables whose versions are not the caller's to give.
 */
export interface AcceptedEvent {
  topic: string;
  /** `schema.table`. */
  table: string;
  /** Kafka key: the canonical primary key (empty for a truncate). */
  key: string;
  /** Kafka value: the event as JSON. */
  value: string;
  commitLsn: string;
  /** Truncates go to every partition, so each orders it against its own rows' changes. */
  everyPartition: boolean;
}

export type LineCheck = { ok: true; event: AcceptedEvent } | { ok: false; reason: string; problems: string[]; table?: string };

export interface CheckOptions {
  topicPrefix: string;
  /** `schema.table` of every table in the pipeline config. */
  configured: ReadonlySet<string>;
  /** `schema.table` of the tables that take events over HTTP (INGEST_HTTP_TABLES). */
  accepted: ReadonlySet<string>;
  /** Largest Kafka record (key + value bytes). */
  maxEventBytes: number;
  /** `schema.table` → its tenant columns, for tables of indexes with a `tenantField` (tenant-check.ts). */
  tenantColumns?: ReadonlyMap<string, readonly string[]>;
  /** The tenant of the request's API key; undefined with API_AUTH=off (no tenant enforced). */
  tenant?: string;
}

/** Deeper JSON than this is refused: serializers recurse, and no mapping is that deep. */
export const MAX_DEPTH = 64;
/** Elasticsearch versions are signed 64-bit. */
const MAX_VERSION = 2n ** 63n - 1n;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function checkLine(bytes: Buffer, opts: CheckOptions): LineCheck {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('NOT_UTF8', ['the line is not valid UTF-8; send the body as UTF-8 text']);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return fail('NOT_JSON', [`not JSON: ${(err as Error).message.slice(0, 200)}; each line must be one JSON event`]);
  }
  return checkEvent(parsed, opts);
}

export function checkEvent(value: unknown, opts: CheckOptions): LineCheck {
  // ajv repeats an if/then failure as 'must match "then" schema' next to the useful message.
  const schemaProblems = eventProblems(value).filter((p) => !/must match "(then|else)" schema$/.test(p));
  if (schemaProblems.length > 0) return fail('EVENT_INVALID', schemaProblems, configuredTable(value, opts));
  const event = value as ChangeEvent;
  const table = `${event.source.schema}.${event.source.table}`;

  if (event.op === 'h') return fail('OP_NOT_ACCEPTED', ['/op "h" (heartbeat) is produced by ingest itself; send c, u, r, d or t'], table);
  const tableProblem = checkTable(table, opts);
  if (tableProblem) return fail('TABLE_NOT_ACCEPTED', [tableProblem], opts.configured.has(table) ? table : undefined);
  const tenant = opts.tenant;
  const tenantColumns = tenant === undefined ? undefined : opts.tenantColumns?.get(table);
  if (tenant !== undefined && tenantColumns) {
    const tenantProblems = enforceTenant(event, tenant, tenantColumns);
    if (tenantProblems.length) return fail('TENANT_FORBIDDEN', tenantProblems, table);
  }

  const problems: string[] = [];
  for (const field of ['lsn', 'commitLsn'] as const) {
    if (BigInt(event[field]) > MAX_VERSION) problems.push(`/${field} ${event[field]} is above ${MAX_VERSION}, the largest version Elasticsearch stores`);
  }
  if (problems.length) return fail('VERSION_TOO_LARGE', problems, table);

  const shape = valueProblems({ key: event.key, after: event.after });
  if (shape.tooDeep) return fail('TOO_DEEP', [`${shape.tooDeep} is nested more than ${MAX_DEPTH} levels deep; flatten it or send it as a string`], table);
  if (shape.unsafe.length) {
    const listed = shape.unsafe.slice(0, 5).map((u) => `${u.path} is an integer beyond ±2^53 (about ${u.value}) that a JSON number cannot carry exactly; send it as a string`);
    if (shape.unsafe.length > 5) listed.push(`… and ${shape.unsafe.length - 5} more such numbers`);
    return fail('UNSAFE_INTEGER', listed, table);
  }

  const key = event.op === 't' ? '' : canonicalKey(event.key);
  const json = JSON.stringify(event);
  const size = Buffer.byteLength(json) + Buffer.byteLength(key);
  if (size > opts.maxEventBytes) return fail('EVENT_TOO_LARGE', [`the event is ${size} bytes as a Kafka record; at most ${opts.maxEventBytes} (INGEST_HTTP_MAX_EVENT_BYTES) fit`], table);

  return { ok: true, event: { topic: topicFor(opts.topicPrefix, event.source), table, key, value: json, commitLsn: event.commitLsn, everyPartition: event.op === 't' } };
}

function checkTable(table: string, opts: CheckOptions): string | undefined {
  const takers = opts.accepted.size ? [...opts.accepted].join(', ') : 'none (set INGEST_HTTP_TABLES)';
  if (!opts.configured.has(table)) return `/source table ${table} is not in the pipeline config; tables that take events over HTTP: ${takers}`;
  if (!opts.accepted.has(table)) {
    return `/source table ${table} is captured from Postgres, whose WAL positions are its versions, so it does not take events over HTTP (one version space per table; list it in INGEST_HTTP_TABLES to move it to upstream events); tables that do: ${takers}`;
  }
  return undefined;
}

/** The event's table when it is a configured one, for metrics labels that stay bounded. */
function configuredTable(value: unknown, opts: CheckOptions): string | undefined {
  const source = (value as { source?: { schema?: unknown; table?: unknown } } | null)?.source;
  const table = `${String(source?.schema)}.${String(source?.table)}`;
  return opts.configured.has(table) ? table : undefined;
}

interface Shape {
  tooDeep?: string;
  unsafe: Array<{ path: string; value: string }>;
}

/** One iterative walk (no recursion to overflow) finding too-deep nesting and lossy integers. */
function valueProblems(root: Record<string, unknown>): Shape {
  const out: Shape = { unsafe: [] };
  const stack: Array<[value: unknown, path: string, depth: number]> = [[root, '', 0]];
  while (stack.length) {
    const [value, path, depth] = stack.pop()!;
    if (typeof value === 'number') {
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) out.unsafe.push({ path, value: BigInt(value).toString() });
    } else if (value !== null && typeof value === 'object') {
      if (depth > MAX_DEPTH) {
        out.tooDeep = path;
        return out;
      }
      for (const [k, v] of Object.entries(value)) stack.push([v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1]);
    }
  }
  return out;
}

function fail(reason: string, problems: string[], table?: string): LineCheck {
  return { ok: false, reason, problems, table };
}
