import type { ClientBase } from 'pg';
import { insertSql, loadMame, MAME_COLUMNS, quoteTableName } from './mame-load';
import type { MameEntry } from './mame-parse';

function entry(n: number): MameEntry {
  return {
    id: `l:s${n}`,
    list: 'l',
    list_description: null,
    name: `s${n}`,
    title: `Software ${n}`,
    alt_title: null,
    cloneof: null,
    year: 1990,
    year_text: '1990',
    release_date: null,
    publisher: "O'Brien; DROP TABLE x", // values must travel as parameters
    developer: null,
    supported: 'yes',
    rom_bytes: n,
    notes: null,
  };
}

async function* entries(n: number): AsyncGenerator<MameEntry> {
  for (let i = 1; i <= n; i++) yield entry(i);
}

/** Records statements; INSERTs report every row as new unless `failOn` matches. */
function fakeClient(failOn?: RegExp): { client: ClientBase; log: string[]; params: unknown[][] } {
  const log: string[] = [];
  const params: unknown[][] = [];
  const query = async (text: string, values?: unknown[]) => {
    log.push(text.split(/\s/)[0] ?? '');
    if (failOn?.test(text)) throw new Error('boom');
    if (values) params.push(values);
    return { rowCount: values ? values.length / MAME_COLUMNS.length : null };
  };
  return { client: { query } as unknown as ClientBase, log, params };
}

describe('loadMame', () => {
  it('creates the table, then commits one transaction per batch', async () => {
    const { client, log, params } = fakeClient();
    const progress: number[] = [];
    const n = await loadMame(client, 'public.software', entries(5), { batchRows: 2, onProgress: (d) => progress.push(d) });
    expect(n).toBe(5);
    expect(log).toEqual(['CREATE', 'BEGIN', 'INSERT', 'COMMIT', 'BEGIN', 'INSERT', 'COMMIT', 'BEGIN', 'INSERT', 'COMMIT']);
    expect(progress).toEqual([2, 4, 5]);
    expect(params[0]).toHaveLength(2 * MAME_COLUMNS.length);
    expect(params[0]).toContain("O'Brien; DROP TABLE x");
  });

  it('rolls back the failing batch and names the rows', async () => {
    const { client, log } = fakeClient(/^INSERT/);
    await expect(loadMame(client, 'software', entries(3), { batchRows: 10 })).rejects.toThrow(/rows 1\.\.3 .*boom/);
    expect(log.slice(-2)).toEqual(['INSERT', 'ROLLBACK']);
  });

  it('refuses a nonsensical batch size before touching the database', async () => {
    const { client, log } = fakeClient();
    await expect(loadMame(client, 'software', entries(1), { batchRows: 0 })).rejects.toThrow(RangeError);
    expect(log).toEqual([]);
  });

  it('splits batches above the bind-parameter limit into several INSERTs in one transaction', async () => {
    const { client, log } = fakeClient();
    expect(await loadMame(client, 'software', entries(5000), { batchRows: 5000 })).toBe(5000);
    expect(log).toEqual(['CREATE', 'BEGIN', 'INSERT', 'INSERT', 'COMMIT']);
  });
});

describe('SQL text', () => {
  it('quotes table names, schema-qualified or not', () => {
    expect(quoteTableName('software')).toBe('"software"');
    expect(quoteTableName('public.software')).toBe('"public"."software"');
    expect(quoteTableName('we"ird')).toBe('"we""ird"');
    for (const bad of ['', 'a.b.c', '.x', 'x.', 'x'.repeat(64)]) expect(() => quoteTableName(bad)).toThrow(/Invalid table name/);
  });

  it('numbers placeholders across rows and ends with ON CONFLICT DO NOTHING', () => {
    const { text, values } = insertSql('"t"', [entry(1), entry(2)]);
    expect(text).toMatch(/^INSERT INTO "t" \(id, list, .*, notes\) VALUES \(\$1,.*\$15\),\(\$16,.*\$30\) ON CONFLICT \(id\) DO NOTHING$/);
    expect(values).toHaveLength(30);
    expect(values[0]).toBe('l:s1');
  });
});
