import type Router from '@koa/router';
import type { Context } from 'koa';
import { encodeConsistencyToken, type TokenPosition } from '../../core/consistency-token';
import { isRetriable, PipelineError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { checkLine, type AcceptedEvent, type CheckOptions } from './event-check';
import { EventSpool } from './event-spool';
import { callerTenant } from './intake-auth';
import { IntakeError } from './intake-error';
import type { IntakeMetrics } from './intake-metrics';
import type { IntakePublisher } from './intake-publisher';
import { readLines, type Line } from './line-reader';
import { bodyKind, bodyReadError, decodedBody, readAll } from './request-body';

export interface EventsRouteDeps {
  check: CheckOptions;
  publisher: IntakePublisher;
  metrics: IntakeMetrics;
  log: Logger;
  maxBodyBytes: number;
  /** Events per Kafka send. */
  batchMaxEvents: number;
  /** Bytes of validated events held in memory before the spool moves to a temporary file. */
  spoolMemoryBytes: number;
}

export interface LineProblem {
  line: number;
  reason: string;
  problems: string[];
}

/** Lines listed in an answer; the counts always cover all of them. */
const MAX_LISTED = 1000;
const RETRY_AFTER_S = 5;

/**
 * POST /v1/events: one event (application/json) or an NDJSON stream. Every line is validated and
 * spooled before anything is produced, so by default a request with any invalid line writes
 * nothing (400 listing each problem by line number); `?partial=true` writes the valid lines and
 * answers per line. The answer comes only after Kafka acknowledged, with a consistency token.
 */
export function eventsRoute(router: Router, deps: EventsRouteDeps): void {
  router.post('/v1/events', async (ctx) => {
    const partial = partialParam(ctx);
    const kind = bodyKind(ctx);
    const body = decodedBody(ctx, deps.maxBodyBytes);
    const spool = new EventSpool({ memoryBytes: deps.spoolMemoryBytes });
    try {
      const read = await readAndCheck(ctx, kind, body, spool, deps);
      if (read.lines === 0) throw new IntakeError(400, 'BODY_EMPTY', 'the body holds no event; send one JSON event, or NDJSON with one event per line');
      if (read.invalid.length > 0 && !partial) {
        for (const [table, n] of read.validByTable) deps.metrics.events.inc({ table, outcome: 'rejected', reason: 'REQUEST_REJECTED' }, n);
        throw rejection(read);
      }
      const positions = await produce(spool, deps);
      const token = positions.length ? encodeConsistencyToken(positions) : null;
      ctx.body = partial
        ? { accepted: spool.size, rejected: read.invalidCount, consistencyToken: token, lines: read.invalid, linesTruncated: read.invalidCount > read.invalid.length }
        : { accepted: spool.size, consistencyToken: token };
    } finally {
      await spool.dispose();
    }
  });
}

function partialParam(ctx: Context): boolean {
  const raw = ctx.query.partial;
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new IntakeError(400, 'PARAM_INVALID', `partial must be true or false; got ${JSON.stringify(raw)}`);
}

interface ReadResult {
  lines: number;
  invalid: LineProblem[];
  invalidCount: number;
  validByTable: Map<string, number>;
}

async function readAndCheck(ctx: Context, kind: 'json' | 'ndjson', body: AsyncIterable<Buffer>, spool: EventSpool, deps: EventsRouteDeps): Promise<ReadResult> {
  const out: ReadResult = { lines: 0, invalid: [], invalidCount: 0, validByTable: new Map() };
  const check: CheckOptions = { ...deps.check, tenant: callerTenant(ctx) };
  // Twice the event limit: whitespace and escapes that re-serializing removes.
  const maxLineBytes = deps.check.maxEventBytes * 2;
  try {
    const lines: AsyncIterable<Line> = kind === 'json' ? single(await readAll(body, deps.maxBodyBytes)) : readLines(body, { maxBodyBytes: deps.maxBodyBytes, maxLineBytes });
    for await (const line of lines) {
      if ('bytes' in line && isBlank(line.bytes)) continue;
      out.lines += 1;
      const result = 'bytes' in line
        ? checkLine(line.bytes, check)
        : { ok: false as const, reason: 'EVENT_TOO_LARGE', problems: [`the line is ${line.tooLongBytes} bytes; at most ${maxLineBytes} are read (INGEST_HTTP_MAX_EVENT_BYTES × 2)`], table: undefined };
      if (result.ok) {
        await spool.add(result.event);
        out.validByTable.set(result.event.table, (out.validByTable.get(result.event.table) ?? 0) + 1);
      } else {
        out.invalidCount += 1;
        if (out.invalid.length < MAX_LISTED) out.invalid.push({ line: line.n, reason: result.reason, problems: result.problems });
        deps.metrics.events.inc({ table: result.table ?? 'other', outcome: 'rejected', reason: result.reason });
      }
    }
  } catch (err) {
    throw bodyReadError(ctx, err, deps.maxBodyBytes);
  }
  return out;
}

async function* single(bytes: Buffer): AsyncGenerator<Line> {
  yield { n: 1, bytes };
}

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

function rejection(read: ReadResult): IntakeError {
  const shown = read.invalid.slice(0, 3).map((p) => `line ${p.line}: ${p.problems[0] ?? p.reason}`);
  const more = read.invalidCount > shown.length ? `; and ${read.invalidCount - shown.length} more line(s), see details` : '';
  return new IntakeError(
    400,
    'EVENTS_INVALID',
    `${read.invalidCount} of ${read.lines} event(s) are invalid, so nothing was written (add ?partial=true to write the valid ones): ${shown.join('; ')}${more}`,
    { details: { invalidLines: read.invalidCount, lines: read.invalid, linesTruncated: read.invalidCount > read.invalid.length } },
  );
}

/** Sends the spooled events in batches, in order, one batch at a time; resolves after the last acknowledgement. */
async function produce(spool: EventSpool, deps: EventsRouteDeps): Promise<TokenPosition[]> {
  const positions: TokenPosition[] = [];
  let batch: AcceptedEvent[] = [];
  let batchBytes = 0;
  let acknowledged = 0;
  const send = async (): Promise<void> => {
    if (!batch.length) return;
    const started = process.hrtime.bigint();
    try {
      positions.push(...(await deps.publisher.publish(batch)));
    } catch (err) {
      throw produceError(err, acknowledged, spool.size, deps.log);
    }
    deps.metrics.produceSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    for (const e of batch) deps.metrics.events.inc({ table: e.table, outcome: 'accepted', reason: '' });
    acknowledged += batch.length;
    batch = [];
    batchBytes = 0;
  };
  for await (const e of spool.events()) {
    // A partition's share of one send becomes one record batch, which the broker caps at about one record's limit.
    const bytes = e.value.length + e.key.length + 80;
    if (batch.length >= deps.batchMaxEvents || (batch.length > 0 && batchBytes + bytes > deps.check.maxEventBytes)) await send();
    batch.push(e);
    batchBytes += bytes;
  }
  await send();
  return positions;
}

function produceError(err: unknown, acknowledged: number, total: number, log: Logger): unknown {
  const written = acknowledged ? `${acknowledged} of ${total} events were acknowledged before the failure; ` : 'nothing was written; ';
  if (err instanceof PipelineError && err.code === 'KAFKA_RECORD_TOO_LARGE') {
    log.error('Kafka refused an intake record as too large; lower INGEST_HTTP_MAX_EVENT_BYTES below the broker message.max.bytes', { err });
    return new IntakeError(413, 'EVENT_TOO_LARGE', `Kafka refused an event as too large; ${written}send smaller events`);
  }
  if (isRetriable(err)) {
    log.warn('Kafka did not acknowledge intake events', { err, acknowledged, total });
    return new IntakeError(503, 'KAFKA_UNAVAILABLE', `Kafka is not acknowledging writes right now; ${written}send the whole request again later (repeats are harmless: events are versioned)`, { retryAfterS: RETRY_AFTER_S });
  }
  return err; // unexpected: the error middleware logs it and answers 500 without internals
}
