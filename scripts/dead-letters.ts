/**
 * npm run dead-letters -- list [filters] [--limit N] [--json]
 * npm run dead-letters -- show <ref> [--json]
 * npm run dead-letters -- replay (--all | filters | --ref <ref>...) [--reread] [--dry-run] [--wait-ms N] [--json]
 *
 * Reads `<TOPIC_PREFIX>.dead-letters` (what ingest and the indexer parked) and replays it once the
 * cause is fixed (docs/operations.md, "Dead letters"). Filters: --index, --reason (error type or
 * part of the reason), --since/--until (ISO time or 15m, 2h, 3d back), --id, --table. Reads the
 * local stack's .stack env files under the environment, like `npm run status`.
 */
import { parseArgs } from 'node:util';
import { Client as PgClient } from 'pg';
import { loadPipelineConfig } from '../config/pipeline';
import { sourceTables } from '../config/pipeline';
import { loadOpsConfig } from '../config/status';
import { errorMessage } from '../core/errors';
import type { KafkaSecurity } from '../core/kafka-security';
import { readRange, topicRange } from './dead-letters/kafka-reader';
import { createToolKafka } from '../core/kafka';
import { matches, parseDeadLetter, parseTime, type DeadLetter, type DeadLetterFilter } from './dead-letters/record';
import { replay, type ReplayResult } from './dead-letters/replay';
import { opsEnv } from './ops-env';
import { createElasticsearchClient } from '../core/elasticsearch';

const USAGE = `usage:
  npm run dead-letters -- list [--index I] [--reason R] [--since T] [--until T] [--id ID] [--table S.T] [--limit N] [--json]
  npm run dead-letters -- show <ref> [--json]
  npm run dead-letters -- replay (--all | <filters as for list> | --ref <ref> ...) [--reread] [--dry-run] [--wait-ms N] [--json]
  T: an ISO time (2026-01-31T12:00:00Z) or a duration back from now (90s, 15m, 2h, 3d); ref: as list shows it (partition-offset)`;

class UsageError extends Error {}
const out = (m: string): void => void process.stdout.write(`${m}\n`);
const say = (m: string): void => void process.stderr.write(`${m}\n`);

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      index: { type: 'string' }, reason: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, id: { type: 'string' }, table: { type: 'string' },
      limit: { type: 'string' }, json: { type: 'boolean', default: false }, all: { type: 'boolean', default: false }, ref: { type: 'string', multiple: true },
      reread: { type: 'boolean', default: false }, 'dry-run': { type: 'boolean', default: false }, 'wait-ms': { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (!command) throw new UsageError('no command given');
  if (!['list', 'show', 'replay'].includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const filter: DeadLetterFilter = {
    ...(values.index ? { index: values.index } : {}), ...(values.reason ? { reason: values.reason } : {}),
    ...(values.since ? { since: parseTime(values.since) } : {}), ...(values.until ? { until: parseTime(values.until) } : {}),
    ...(values.id ? { id: values.id } : {}), ...(values.table ? { table: values.table } : {}),
  };
  const refs = values.ref ?? [];
  if (command === 'replay' && !values.all && !refs.length && !Object.keys(filter).length) throw new UsageError('replay needs --all, a filter or --ref: it writes to the indexes');
  const waitMs = values['wait-ms'] === undefined ? 60_000 : Number(values['wait-ms']);
  if (!Number.isInteger(waitMs) || waitMs < 0) throw new UsageError('--wait-ms takes a whole number of milliseconds');
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit takes a whole number above 0');
  const { env, logsDir } = opsEnv();
  const config = loadOpsConfig(env, logsDir);
  if (!config.kafkaBrokers) throw new Error('KAFKA_BROKERS is not set: the dead letters are in Kafka');
  const pipeline = loadPipelineConfig(config.pipelineConfigPath);
  const tablesOf = (index: string): string[] => sourceTables(pipeline.indexes.find((i) => i.name === index) ?? { name: '', source: { schema: '', table: '' }, fields: [] }).map((t) => `${t.schema}.${t.table}`).filter((t) => t !== '.');
  const topic = `${config.topicPrefix}.dead-letters`;
  const all = await readAll(config.kafkaBrokers, config.kafkaSecurity, topic, config.topicPrefix, Math.max(config.timeoutMs, 30_000));

  if (command === 'show') {
    const [ref] = rest;
    if (!ref || rest.length > 1) throw new UsageError('show needs exactly one ref (see list)');
    const d = all.find((x) => x.ref === ref);
    if (!d) throw new Error(`no dead letter ${ref} in ${topic} (${all.length} parked); \`npm run dead-letters -- list\` shows the refs`);
    out(values.json ? JSON.stringify(d, null, 2) : describe(d));
    return 0;
  }
  if (rest.length) throw new UsageError(`${command} takes no positional arguments (got ${rest.join(' ')})`);
  const missing = refs.filter((r) => !all.some((d) => d.ref === r));
  if (missing.length) throw new Error(`no dead letter ${missing.join(', ')} in ${topic}`);
  const selected = all.filter((d) => (!refs.length || refs.includes(d.ref)) && matches(d, filter, tablesOf));

  if (command === 'list') {
    const shown = selected.slice(-limit).reverse(); // newest first
    if (values.json) out(JSON.stringify({ topic, total: all.length, matching: selected.length, deadLetters: shown }, null, 2));
    else printList(topic, all.length, selected.length, shown);
    return 0;
  }

  if (!config.elasticsearch) throw new Error('ELASTICSEARCH_URL is not set: replay writes to and checks the indexes');
  const es = createElasticsearchClient(config.elasticsearch, { requestTimeout: config.timeoutMs, maxRetries: 1 });
  const db = config.databaseUrl ? new PgClient({ connectionString: config.databaseUrl, application_name: 'search-pipeline-dead-letters' }) : undefined;
  db?.on('error', () => undefined);
  try {
    await db?.connect();
    const results = await replay(selected, { es, db, pipeline, slot: config.slotName, waitMs }, { reread: values.reread, dryRun: values['dry-run'] });
    if (values.json) out(JSON.stringify({ replayed: results.filter((r) => r.outcome === 'replayed').length, results }, null, 2));
    else printReplay(results);
    return results.some((r) => r.outcome === 'failed' || r.outcome === 'unconfirmed') ? 1 : 0;
  } finally {
    await db?.end().catch(() => undefined);
    await es.close();
  }
}

async function readAll(brokers: string[], security: KafkaSecurity, topic: string, prefix: string, timeoutMs: number): Promise<DeadLetter[]> {
  const kafka = createToolKafka(brokers, 'search-pipeline-dead-letters', timeoutMs, security);
  const cluster = kafka.cluster();
  try {
    const ranges = await topicRange(cluster, topic);
    if (!ranges) return [];
    return (await readRange(kafka, topic, ranges, timeoutMs)).map((m) => parseDeadLetter(m, prefix));
  } catch (err) {
    throw new Error(`reading ${topic} from Kafka at ${brokers.join(',')} failed: ${errorMessage(err)}`);
  } finally {
    await cluster.close().catch(() => undefined);
  }
}

function printList(topic: string, total: number, matching: number, shown: DeadLetter[]): void {
  say(`${topic}: ${total} parked, ${matching} matching${shown.length < matching ? `, newest ${shown.length} shown (--limit)` : ''}`);
  if (!shown.length) return;
  const rows = [['REF', 'PARKED', 'STAGE', 'INDEX/TABLE', 'ID', 'COMMIT LSN', 'ERROR'], ...shown.map((d) => [d.ref, d.parkedAt, d.stage, d.index ?? d.table ?? '-', d.id ?? '-', d.commitLsn ?? '-', `${d.errorType}: ${d.reason.replace(/\s+/g, ' ').slice(0, 100)}`])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

function describe(d: DeadLetter): string {
  const lines = [
    `ref         ${d.ref}`, `parked at   ${d.parkedAt}`, `stage       ${d.stage}`,
    `index       ${d.index ?? '-'}`, `id          ${d.id ?? '-'}`, `table       ${d.table ?? '-'}`, `key         ${d.key ? JSON.stringify(d.key) : '-'}`,
    `from        ${d.partition === -1 ? `${d.topic || '-'} (never reached it)` : `${d.topic} partition ${d.partition} offset ${d.offset}`}`,
    `lsn         ${d.lsn ?? '-'}`, `commit lsn  ${d.commitLsn ?? '-'} (the version of its document)`,
    `error       ${d.errorType}`, `reason      ${d.reason}`, 'payload', `  ${d.payload}`,
  ];
  return lines.join('\n');
}

function printReplay(results: ReplayResult[]): void {
  if (!results.length) return say('nothing matched: no dead letter replayed');
  for (const r of results) out(`${r.ref.padEnd(8)} ${r.outcome.padEnd(11)} ${(r.index ?? r.table ?? '-')}/${r.id ?? '-'}  ${r.how}: ${r.detail}`);
  const count = (o: string): number => results.filter((r) => r.outcome === o).length;
  say(`${count('replayed')} replayed, ${count('superseded')} superseded (a newer version is indexed), ${count('failed')} failed, ${count('unconfirmed')} unconfirmed, ${count('skipped')} skipped. The dead letters stay in the topic until its retention; replaying again is safe.`);
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  say(`dead-letters: ${errorMessage(err)}`);
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) say(USAGE);
  process.exit(err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1);
});
