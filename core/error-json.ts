import { types } from 'node:util';

/** How one error of a chain is logged. */
export interface ErrorJson {
  name: string;
  message: string;
  code?: unknown;
  /** A PipelineError's context (topic, partition, index, …): what the message does not repeat. */
  context?: unknown;
  /** Only on the outermost error: where it was thrown or wrapped. */
  stack?: string;
  /** An AggregateError's members (Node 20 reports a refused connection to every address of a host as one, with an empty message). */
  errors?: ErrorJson[];
  /** The cause chain, outermost first, each without its own cause. */
  causes?: ErrorJson[];
}

/** Beyond this a chain is cut: a wrapper loop or a pathological library, not a story worth the log line. */
const MAX_CAUSES = 10;
const MAX_AGGREGATED = 10;

/** True for an Error of any realm (jest's sandbox, Node's internals), not just this one's. */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/**
 * An error as plain JSON for a log line: name, message, code and context of the error and of every
 * cause, and the outermost stack. JSON.stringify of an Error gives `{}`, and the cause is where
 * the reason usually is (a PipelineError wrapping the Postgres or Kafka error that caused it).
 */
export function errorJson(err: Error): ErrorJson {
  const out: ErrorJson = { ...one(err), ...(err.stack ? { stack: err.stack } : {}) };
  const causes: ErrorJson[] = [];
  const seen = new Set<unknown>([err]);
  let cur: unknown = (err as { cause?: unknown }).cause;
  while (cur !== undefined && !seen.has(cur) && causes.length < MAX_CAUSES) {
    seen.add(cur);
    if (!isError(cur)) {
      // `new Error('x', { cause: 'timeout' })`: a cause may be any value.
      causes.push({ name: typeof cur, message: typeof cur === 'string' ? cur : safeString(cur) });
      break;
    }
    causes.push(one(cur));
    cur = (cur as { cause?: unknown }).cause;
  }
  if (causes.length) out.causes = causes;
  return out;
}

function one(err: Error): ErrorJson {
  const code = (err as { code?: unknown }).code;
  const context = (err as { context?: unknown }).context;
  const out: ErrorJson = { name: err.name, message: err.message };
  if (code !== undefined) out.code = code;
  if (context && typeof context === 'object' && Object.keys(context).length) out.context = context;
  const members = (err as { errors?: unknown }).errors;
  if (Array.isArray(members) && members.length) out.errors = members.slice(0, MAX_AGGREGATED).map((m) => (isError(m) ? one(m) : { name: typeof m, message: safeString(m) }));
  return out;
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'object' ? JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) : String(v);
  } catch {
    return String(v);
  }
}
