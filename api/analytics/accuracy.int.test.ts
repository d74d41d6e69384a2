import type { Client as PgClient } from 'pg';
import { createApiIndex, type ApiIndex } from '../../e2e/support/api-index';
import { es, pg, uniqueName } from '../../e2e/support/services';

/**
 * Analytics accuracy against the truth computed by the real Postgres: a skewed column (60 % small
 * values, 40 % spread over ten orders of magnitude) on which Elasticsearch's default t-digest is
 * far off, and HDR (percentilesMethod=hdr) is within its 0.1 %; and sums/maxima beyond 2^53, which
 * come back rounded and must say so.
 */
describe('analytics accuracy against Postgres', () => {
  const elastic = es();
  const table = uniqueName('skewed');
  let db: PgClient;
  let ix: ApiIndex;
  const PERCENTS = [50, 90, 99];

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} AS
      SELECT i AS id, 'skew' AS system,
             (CASE WHEN i % 10 < 6 THEN (i % 97) + 1 ELSE floor(power(10, 3 + (i % 1000) / 100.0)) END)::bigint AS rom_bytes
        FROM generate_series(1, 20000) i
      UNION ALL SELECT 100000 + i, 'big', 9007199254740992 + 2 * i - 1 FROM generate_series(1, 3) i`);
    const rows = (await db.query(`SELECT id, system, rom_bytes::text AS rom_bytes FROM ${table}`)).rows as Array<{ id: number; system: string; rom_bytes: string }>;
    // Exact digits in the documents: the JSON text carries 9007199254740994 as written.
    ix = await createApiIndex(elastic, [{ id: 'seed', system: 'none' }]);
    const body = rows.map((r) => `{"index":{"_index":"${ix.spec.name}","_id":"${r.id}"}}\n{"system":"${r.system}","rom_bytes":${r.rom_bytes}}\n`).join('');
    const res = await elastic.bulk({ refresh: true, body } as never);
    expect((res as { errors: boolean }).errors).toBe(false);
  });
  afterAll(async () => {
    await ix?.drop();
    await db?.query(`DROP TABLE IF EXISTS ${table}`);
    await db?.end();
    await elastic.close();
  });

  /** Nearest-rank percentiles: what an HDR histogram approximates (it does not interpolate). */
  async function sqlPercentiles(): Promise<number[]> {
    const q = `SELECT percentile_disc(ARRAY[${PERCENTS.map((p) => p / 100).join(',')}]) WITHIN GROUP (ORDER BY rom_bytes) AS p FROM ${table} WHERE system = 'skew'`;
    return ((await db.query(q)).rows[0].p as string[]).map(Number);
  }
  async function apiPercentiles(extra: Record<string, string>): Promise<number[]> {
    const res = await ix.http.get(ix.path('analytics')).query({ metrics: 'percentiles(rom_bytes)', percents: PERCENTS.join(','), filter: 'system:skew', ...extra });
    expect(res.status).toBe(200);
    return PERCENTS.map((p) => res.body.metrics['percentiles(rom_bytes)'][String(p)] as number);
  }
  const relErrors = (got: number[], want: number[]) => got.map((g, i) => Math.abs(g - (want[i] as number)) / (want[i] as number));

  it('hdr stays within 0.1 % of the SQL percentiles where the default t-digest does not', async () => {
    const truth = await sqlPercentiles();
    const tdigest = relErrors(await apiPercentiles({}), truth);
    const hdr = relErrors(await apiPercentiles({ percentilesMethod: 'hdr' }), truth);
    const precise = relErrors(await apiPercentiles({ compression: '1000' }), truth);
    // Printed so the figures of docs/api.md can be re-measured.
    process.stdout.write(`percentile errors vs SQL at p${PERCENTS.join('/p')}: tdigest ${fmt(tdigest)}, tdigest(1000) ${fmt(precise)}, hdr ${fmt(hdr)}\n`);
    for (const e of hdr) expect(e).toBeLessThanOrEqual(0.001);
    expect(Math.max(...tdigest)).toBeGreaterThan(0.05); // the problem the option exists for
    expect(Math.max(...precise)).toBeLessThan(Math.max(...tdigest));
  });

  it('flags a sum and a max beyond 2^53 as not exact, and leaves exact ones unflagged', async () => {
    const truth = (await db.query(`SELECT sum(rom_bytes)::text AS sum, max(rom_bytes)::text AS max FROM ${table} WHERE system = 'big'`)).rows[0] as { sum: string; max: string };
    const res = await ix.http.get(ix.path('analytics')).query({ metrics: 'sum(rom_bytes),max(rom_bytes),min(rom_bytes)', filter: 'system:big' });
    expect(res.status).toBe(200);
    // The numbers Elasticsearch answers are not the exact ones Postgres computes…
    expect(BigInt(Math.round(res.body.metrics['sum(rom_bytes)']))).not.toBe(BigInt(truth.sum));
    expect(BigInt(res.body.metrics['max(rom_bytes)'])).not.toBe(BigInt(truth.max));
    // …and the answer says so.
    expect(res.body.exact).toEqual({ 'sum(rom_bytes)': false, 'max(rom_bytes)': false, 'min(rom_bytes)': false });
    const small = await ix.http.get(ix.path('analytics')).query({ metrics: 'sum(rom_bytes),max(rom_bytes)', filter: 'system:skew', groupBy: 'system' });
    expect(small.body.exact).toBeUndefined();
    expect(small.body.groups[0].exact).toBeUndefined();
  });
});

const fmt = (xs: number[]) => xs.map((x) => `${(x * 100).toFixed(2)}%`).join('/');
