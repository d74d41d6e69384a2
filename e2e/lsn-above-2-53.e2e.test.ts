import fs from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { encodeConsistencyToken } from '../core/consistency-token';
import { parseLsn } from '../core/lsn';
import { allDocs, dropSearchIndex } from './support/indexer-harness';
import { startPrivatePostgres, type PrivatePostgres } from './support/private-postgres';
import { freePort, startService, stopService, writePipelineFile, type RunningService } from './support/processes';
import { es, eventually, kafka, uniqueName } from './support/services';
import { ingestStreaming } from './support/witnessed-table';

/**
 * Where the private cluster's WAL starts (`pg_resetwal -l`): log 0x4000000A, segment 0x5B, i.e.
 * LSN 4000000A/5B000000 ≈ 2^62. Not just above 2^53 on purpose: WAL records start on 8-byte
 * boundaries and doubles step by 2 between 2^53 and 2^54, so a commit LSN there survives a trip
 * through a JS Number and precision loss would go unnoticed; at 2^62 doubles step by 1024 and
 * every commit LSN but one in 128 changes. Still below 2^63 - 1, the largest Elasticsearch version.
 * LSN_TEST_WAL_START picks another start (a WAL file name on timeline 1), e.g.
 * 00000001002000010000002A for 200001/2A000000, just above 2^53.
 */
const WAL_START = process.env.LSN_TEST_WAL_START ?? '000000014000000A0000005B';
const TWO_POW_53 = 2n ** 53n;

interface Tx { xid: number; label: string }

/**
 * docs/reliability.md scenario 18: a database whose WAL position is above 2^53. The real ingest,
 * indexer and API processes run against a private cluster whose WAL starts near 2^62, the shared
 * Kafka and Elasticsearch. Commit LSNs are read independently from the WAL itself (pg_waldump:
 * the start of each transaction's commit record, by xid), and every document's `_version` must
 * equal exactly the commit LSN of the last transaction that wrote it; Kafka events carry the same
 * values, the API's watermark (`asOf`), `minLsn` and consistency tokens compare them to the unit.
 */
describe('a database whose WAL position is above 2^53', () => {
  const table = uniqueName('lsn_big');
  const index = uniqueName('lsnbig');
  const slot = uniqueName('slot');
  const prefix = uniqueName('e2e');
  const topic = `${prefix}.public.${table}`;
  const witness = uniqueName('witness');
  const elastic = es();
  const services: RunningService[] = [];
  let cluster: PrivatePostgres | undefined;
  let db: PgClient;
  let api: string;
  let walStartLsn: string;
  let pipelineFile: string | undefined;

  beforeAll(async () => {
    cluster = await startPrivatePostgres({ walStart: WAL_START });
    db = new PgClient({ connectionString: cluster.url });
    await db.connect();
    walStartLsn = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL, n int NOT NULL, code text)`);
    // Rows that exist before ingest starts reach the index through its snapshot.
    await db.query(`INSERT INTO ${table} SELECT g, 'snapshot ' || g, 0 FROM generate_series(101, 105) g`);
    // Commit *end* LSNs (what ingest acknowledges) come from a test_decoding slot the test owns.
    await db.query(`SELECT pg_create_logical_replication_slot($1, 'test_decoding')`, [witness]);
    pipelineFile = writePipelineFile('lsn-big', { version: 1, indexes: { [index]: { table, fields: { title: { type: 'text', searchable: true }, n: { type: 'integer' }, code: { type: 'integer' } } } } });
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const env = {
      DATABASE_URL: cluster.url, PIPELINE_CONFIG: pipelineFile, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix,
      INDEXER_GROUP_ID: uniqueName('g'), INDEXER_WATERMARK_INTERVAL_MS: '100', API_PORT: String(port), API_URL: api,
      // One partition and no heartbeats: once the writes stop, the watermark is exactly the last
      // data commit, so the API's answers can be checked to the unit at this height.
      TOPIC_PARTITIONS: '1', INGEST_HEARTBEAT_INTERVAL_MS: '0',
      API_CACHE_MAX_ENTRIES: '0', API_REDIS_PREFIX: `${uniqueName('lsn')}:`, API_CONSISTENCY_WAIT_MS: '300', API_WATERMARK_REFRESH_MS: '50',
    };
    services.push(startService('ingest', env), startService('indexer', env), startService('api', env));
    await eventually(async () => ((await fetch(`${api}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 'api ready', 90_000);
    await ingestStreaming(db, slot, 'ingest streaming', 90_000);
  });

  afterAll(async () => {
    for (const s of services) {
      const code = await stopService(s);
      if (code !== 0) process.stderr.write(`${s.name} exited ${code}:\n${s.output().slice(-3000)}\n`);
    }
    await db?.end().catch(() => undefined);
    await cluster?.stop();
    if (pipelineFile) fs.rmSync(path.dirname(pipelineFile), { recursive: true, force: true });
    await dropSearchIndex(elastic, index);
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${prefix}.dead-letters`] }).catch(() => undefined);
    await admin.disconnect();
    await elastic.close();
  });

  /** Commit LSN (start of the commit record, what pgoutput calls commit_lsn) of every transaction since the test began, by xid. */
  async function commitLsnsFromWal(): Promise<Map<number, bigint>> {
    // pg_waldump ends with an error at the end of the WAL written so far; what it printed before is complete.
    const r = await cluster!.tool('pg_waldump', ['-p', path.join(cluster!.dataDir, 'pg_wal'), '-s', walStartLsn, '-r', 'Transaction']);
    const out = new Map<number, bigint>();
    for (const m of r.output.matchAll(/tx:\s+(\d+), lsn: ([0-9A-F]+\/[0-9A-F]+), prev [^,]+, desc: COMMIT/g)) out.set(Number(m[1]), parseLsn(m[2]!));
    if (!out.size) throw new Error(`pg_waldump found no commit: ${r.output.slice(0, 2000)}`);
    return out;
  }

  it('keeps versions exact and keeps applying updates and deletes', async () => {
    const current = parseLsn((await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
    expect(current).toBeGreaterThan(TWO_POW_53);

    const lastTx = new Map<number, Tx>(); // id -> last transaction that wrote it
    const txs: Tx[] = [];
    async function tx(label: string, ids: number[], ...statements: Array<[string, unknown[]]>): Promise<void> {
      await db.query('BEGIN');
      const xid = Number(BigInt((await db.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x) % 2n ** 32n);
      for (const [sql, params] of statements) await db.query(sql, params);
      await db.query('COMMIT');
      const t = { xid, label };
      txs.push(t);
      for (const id of ids) lastTx.set(id, t);
    }
    const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

    await tx('insert 1..20', range(1, 20), [`INSERT INTO ${table} SELECT g, 'first ' || g, 0 FROM generate_series(1, 20) g`, []]);
    for (const id of range(1, 10)) await tx(`update ${id}`, [id], [`UPDATE ${table} SET title = 'second ' || id, n = n + 1 WHERE id = $1`, [id]]);
    await tx('update 1..5 twice in one transaction', range(1, 5),
      [`UPDATE ${table} SET title = 'third ' || id, n = n + 1 WHERE id <= 5`, []],
      [`UPDATE ${table} SET title = 'fourth ' || id, n = n + 1 WHERE id <= 5`, []]);
    for (const id of range(6, 10)) await tx(`update ${id} again`, [id], [`UPDATE ${table} SET title = 'third ' || id, n = n + 1 WHERE id = $1`, [id]]);
    await tx('delete 15..20', range(15, 20), [`DELETE FROM ${table} WHERE id BETWEEN 15 AND 20`, []]);
    await tx('insert, update, delete 21 in one transaction', [21],
      [`INSERT INTO ${table} VALUES (21, 'short-lived', 0)`, []],
      [`UPDATE ${table} SET title = 'short-lived updated' WHERE id = 21`, []],
      [`DELETE FROM ${table} WHERE id = 21`, []]);
    await tx('delete 14', [14], [`DELETE FROM ${table} WHERE id = 14`, []]);
    await tx('insert 14 again', [14], [`INSERT INTO ${table} VALUES (14, 'reborn 14', 7)`, []]);
    await tx('update snapshot row 101', [101], [`UPDATE ${table} SET title = 'snapshot 101 updated' WHERE id = 101`, []]);
    // Not a number for an integer field: Elasticsearch refuses it, the indexer parks it as a dead letter.
    await tx('insert poison 30', [30], [`INSERT INTO ${table} VALUES (30, 'poison', 0, 'not a number')`, []]);
    await tx('update 11 twice in one transaction', [11],
      [`UPDATE ${table} SET title = 'eleven a', n = 100 WHERE id = 11`, []],
      [`UPDATE ${table} SET title = 'eleven b', n = 101 WHERE id = 11`, []]);

    const rows = new Map((await db.query<{ id: number; title: string; n: number; code: string | null }>(`SELECT id, title, n, code FROM ${table} WHERE id <> 30`)).rows.map((r) => [String(r.id), { title: r.title, n: r.n, code: r.code }]));
    const commitLsn = await commitLsnsFromWal();
    for (const t of txs) {
      expect([t.label, commitLsn.get(t.xid)! > TWO_POW_53]).toEqual([t.label, true]);
      // Only a test that would notice rounding proves anything: at the default start each version
      // changes as a double (an overridden start below 2^56 may not, and is then a plain run).
      if (!process.env.LSN_TEST_WAL_START) expect([t.label, BigInt(Number(commitLsn.get(t.xid)!)) === commitLsn.get(t.xid)]).toEqual([t.label, false]);
    }

    // Elasticsearch: exactly the rows of Postgres, each at the commit LSN of its last transaction.
    const docs = await eventually(async () => {
      const d = await allDocs(elastic, index).catch(() => undefined);
      if (!d || d.size !== rows.size) return undefined;
      for (const [id, row] of rows) if (d.get(id)?.source !== JSON.stringify(row)) return undefined;
      return d;
    }, 'the index holding the final rows', 90_000);
    expect(new Set(docs.keys())).toEqual(new Set(rows.keys()));
    const walCommits = new Set([...commitLsn.values()].map(String));
    for (const [id, doc] of docs) {
      const t = lastTx.get(Number(id));
      if (!t) {
        // Copied by the snapshot: versioned at the commit of the chunk's high watermark, an exact commit of the WAL.
        expect({ id, snapshotVersionIsAWalCommit: walCommits.has(doc.version) }).toEqual({ id, snapshotVersionIsAWalCommit: true });
        continue;
      }
      expect({ id, last: t.label, version: doc.version }).toEqual({ id, last: t.label, version: commitLsn.get(t.xid)!.toString() });
      expect(JSON.parse(doc.source)).toEqual(rows.get(id));
    }
    for (const gone of [15, 16, 17, 18, 19, 20, 21, 30]) expect(docs.has(String(gone))).toBe(false);

    // Kafka: every event of a transaction carries its exact commit LSN (raw text, never through a Number).
    const raw = await readRaw(topic);
    for (const id of [102, 103, 104, 105]) {
      const snap = raw.find((text) => text.includes('"op":"r"') && text.includes(`"key":{"id":${id}}`));
      expect(/"commitLsn":"(\d+)"/.exec(snap ?? '')?.[1]).toBe(docs.get(String(id))!.version);
    }
    const byTx = new Map<number, Set<string>>();
    for (const text of raw) {
      const commit = /"commitLsn":"(\d+)"/.exec(text)?.[1];
      const txId = Number(/"txId":(\d+)/.exec(text)?.[1]);
      expect(commit).toBeDefined();
      (byTx.get(txId) ?? byTx.set(txId, new Set()).get(txId)!).add(commit!);
    }
    for (const t of txs) expect({ tx: t.label, commitLsn: [...(byTx.get(t.xid) ?? [])] }).toEqual({ tx: t.label, commitLsn: [commitLsn.get(t.xid)!.toString()] });

    // The dead letter names the poison row's exact LSNs.
    const poison = commitLsn.get(txs.find((t) => t.label === 'insert poison 30')!.xid)!.toString();
    const dead = (await readRaw(`${prefix}.dead-letters`)).filter((text) => text.includes(`"index":"${index}`) && text.includes('"id":"30"'));
    expect(dead.length).toBeGreaterThanOrEqual(1);
    expect(/"commitLsn":"(\d+)"/.exec(dead[0]!)?.[1]).toBe(poison);

    // The API: the watermark is exactly the last commit; minLsn and consistency tokens compare to the unit.
    const last = commitLsn.get(txs[txs.length - 1]!.xid)!;
    const doc = async (id: string, query: string) => {
      const res = await fetch(`${api}/v1/indexes/${index}/documents/${id}?${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as { document: Record<string, unknown>; asOf: { lsn: string | null }; stale: boolean };
    };
    const settled = await eventually(async () => {
      const r = await doc('11', `minLsn=${last}`);
      return r.stale ? undefined : r;
    }, 'the API seeing the last commit', 30_000);
    expect(settled).toMatchObject({ document: { title: 'eleven b', n: 101 }, asOf: { lsn: last.toString() }, stale: false });
    expect((await doc('14', `minLsn=${last + 1n}`)).stale).toBe(true);
    expect((await doc('14', `consistency=${encodeConsistencyToken([{ topic, partition: 0, lsn: last }])}`)).stale).toBe(false);
    expect((await doc('14', `consistency=${encodeConsistencyToken([{ topic, partition: 0, lsn: last + 1n }])}`)).stale).toBe(true);

    // The acknowledgement: the slot is confirmed exactly to the end of the last commit, not a rounded neighbour.
    const ends = new Map((await db.query<{ lsn: string; data: string }>(`SELECT lsn::text, data FROM pg_logical_slot_peek_changes($1, NULL, NULL, 'include-xids', '1') WHERE data LIKE 'COMMIT %'`, [witness])).rows.map((r) => [Number(r.data.slice(7)), parseLsn(r.lsn)]));
    const lastEnd = ends.get(txs[txs.length - 1]!.xid)!;
    expect(lastEnd).toBeGreaterThan(last);
    const confirmed = await eventually(async () => {
      const lsn = (await db.query<{ lsn: string }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0]?.lsn;
      return lsn && parseLsn(lsn) >= lastEnd ? parseLsn(lsn) : undefined;
    }, 'the slot confirmed past the last commit', 30_000);
    expect(confirmed.toString()).toBe(lastEnd.toString());
  });
});

/** Every message value of a topic as text (a one-partition topic, read up to its end offset). */
async function readRaw(topic: string): Promise<string[]> {
  const k = kafka();
  const admin = k.admin();
  await admin.connect();
  const high = Number((await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect()))[0]!.high);
  const consumer = k.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const out: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void out.push(message.value?.toString() ?? '') });
  try {
    await eventually(async () => (out.length >= high ? true : undefined), `${high} messages on ${topic}`, 60_000);
  } finally {
    await consumer.disconnect();
  }
  return out;
}
