import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { insertRowsSql, insertSql, loadMame, loadMameDemo, MAME_COLUMNS, quoteTableName } from './mame-load';
import { parseMameRecords, type MameEntry, type MameRecord } from './mame-parse';
import { mameParents } from './mame-split';

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
function fakeClient(failOn?: RegExp): { client: ClientBase; log: string[]; params: unknown[][]; texts: string[] } {
  const log: string[] = [];
  const params: unknown[][] = [];
  const texts: string[] = [];
  const query = async (text: string, values?: unknown[]) => {
    log.push(text.split(/\s/)[0] ?? '');
    texts.push(text);
    if (failOn?.test(text)) throw new Error('boom');
    if (values) params.push(values);
    const columns = /^INSERT INTO \S+ \(([^)]*)\)/.exec(text)?.[1]?.split(', ').length;
    return { rowCount: values && columns ? values.length / columns : null };
  };
  return { client: { query } as unknown as ClientBase, log, params, texts };
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

describe('loadMameDemo', () => {
  let records: MameRecord[];
  beforeAll(async () => {
    records = [];
    for await (const r of parseMameRecords(join(__dirname, 'fixtures', 'mame-hash'))) records.push(r);
  });
  async function* stream(): AsyncGenerator<MameRecord> {
    yield* records;
  }

  it('loads the flat table and the split tables in one transaction per batch, parents first, and counts the rows of each', async () => {
    const { client, log, texts } = fakeClient();
    const progress: number[] = [];
    const counts = await loadMameDemo(client, stream(), { software: 'public.software', splitSchema: 'public' }, { batchRows: 4, onProgress: (d) => progress.push(d) });
    expect(counts).toEqual({ software: 10, software_lists: 4, publishers: 8, titles: 10, parts: 14 });
    expect(progress).toEqual([4, 8, 10]);
    const created = texts.filter((t) => t.startsWith('CREATE')).map((t) => /(TABLE|INDEX) IF NOT EXISTS (\S+)/.exec(t)?.[2]);
    expect(created).toEqual(['"public"."software"', '"public"."software_lists"', '"public"."publishers"', '"public"."titles"', 'titles_list_idx', 'titles_publisher_id_idx', '"public"."parts"']);
    // A batch is BEGIN, an INSERT per table it has rows for (parents first), COMMIT.
    const firstBatch = texts.slice(texts.indexOf('BEGIN'), texts.indexOf('COMMIT') + 1).map((t) => /^INSERT INTO (\S+)/.exec(t)?.[1] ?? t);
    expect(firstBatch).toEqual(['BEGIN', '"public"."software"', '"public"."software_lists"', '"public"."publishers"', '"public"."titles"', '"public"."parts"', 'COMMIT']);
    expect(log.filter((l) => l === 'COMMIT')).toHaveLength(3);
  });

  it('can load only the split tables (the flat one already loaded) or only the flat one', async () => {
    const split = fakeClient();
    expect(await loadMameDemo(split.client, stream(), { splitSchema: 'demo' })).toEqual({ software: 0, software_lists: 4, publishers: 8, titles: 10, parts: 14 });
    expect(split.texts.some((t) => /"software"/.test(t))).toBe(false);
    const flat = fakeClient();
    expect(await loadMameDemo(flat.client, stream(), { software: 'software' })).toEqual({ software: 10, software_lists: 0, publishers: 0, titles: 0, parts: 0 });
    expect(flat.texts.some((t) => /titles|parts/.test(t))).toBe(false);
  });

  it('commits the lists and publishers first when given them, and then names none again', async () => {
    const { client, texts } = fakeClient();
    const parents = await mameParents(stream());
    const counts = await loadMameDemo(client, stream(), { splitSchema: 'public', parents }, { batchRows: 4 });
    expect(counts).toEqual({ software: 0, software_lists: 4, publishers: 8, titles: 10, parts: 14 });
    const inserts = texts.filter((t) => /^(BEGIN|COMMIT|INSERT)/.test(t)).map((t) => /^INSERT INTO "public"."(\w+)"/.exec(t)?.[1] ?? t);
    expect(inserts.slice(0, 8)).toEqual(['BEGIN', 'software_lists', 'publishers', 'COMMIT', 'BEGIN', 'titles', 'parts', 'COMMIT']);
    expect(inserts.filter((t) => t === 'software_lists' || t === 'publishers')).toHaveLength(2);
  });

  it('rolls back a failing batch across all its tables and names the rows', async () => {
    const { client, log } = fakeClient(/^INSERT INTO "public"."parts"/);
    await expect(loadMameDemo(client, stream(), { software: 'software', splitSchema: 'public' })).rejects.toThrow(/rows 1\.\.10 \(from a5200:bzonea\) into .*"parts" failed: boom/);
    expect(log.slice(-2)).toEqual(['INSERT', 'ROLLBACK']);
    expect(log).not.toContain('COMMIT');
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

  it('skips existing rows by the table\'s whole key', () => {
    expect(insertRowsSql('"p"', ['title_id', 'position', 'name'], ['title_id', 'position'], [{ title_id: 'a:b', position: 1, name: 'cart' }])).toEqual({
      text: 'INSERT INTO "p" (title_id, position, name) VALUES ($1,$2,$3) ON CONFLICT (title_id, position) DO NOTHING',
      values: ['a:b', 1, 'cart'],
    });
  });
});
