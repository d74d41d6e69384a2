import { join } from 'node:path';
import { parseMameRecords, type MameRecord } from './mame-parse';
import { createMameSplitter, mameParents, SPLIT_TABLES, splitMame, type PartRow, type SplitRows, type TitleRow } from './mame-split';

const HASH = join(__dirname, 'fixtures', 'mame-hash');

describe('splitMame over the fixture lists', () => {
  let records: MameRecord[];
  let rows: SplitRows;
  beforeAll(async () => {
    records = [];
    for await (const r of parseMameRecords(HASH)) records.push(r);
    rows = splitMame(records);
  });

  it('gives one list per file, one title per entry, one part per <part>, one publisher per distinct name', () => {
    expect(rows.software_lists).toEqual([
      { name: 'a5200', description: 'Atari 5200 cartridges' },
      { name: 'c64_cass', description: 'Commodore 64 cassettes' },
      { name: 'ibm5170_cdrom', description: 'IBM PC/AT CD-ROM images' },
      { name: 'pico', description: 'Sega Pico cartridges' },
    ]);
    expect(rows.titles.map((t) => t.id)).toEqual(records.map((r) => r.entry.id));
    expect(rows.titles).toHaveLength(10);
    expect(rows.parts).toHaveLength(14);
    // Atari twice and Sega twice in the files: each is one row, ids in order of first appearance.
    expect(rows.publishers).toEqual([
      { id: 1, name: 'Atari' },
      { id: 2, name: 'Big Five Software' },
      { id: 3, name: 'Firebird' },
      { id: 4, name: 'Firebird Silver' },
      { id: 5, name: 'Melbourne House' },
      { id: 6, name: 'Kuki' },
      { id: 7, name: 'Sega' },
      { id: 8, name: 'Imagineer' },
    ]);
  });

  it('keeps every reference resolvable: titles to lists and publishers, parts to titles, keys unique', () => {
    const lists = new Set(rows.software_lists.map((l) => l.name));
    const publishers = new Map(rows.publishers.map((p) => [p.id, p.name]));
    const titles = new Set(rows.titles.map((t) => t.id));
    for (const t of rows.titles) {
      expect(lists.has(t.list)).toBe(true);
      expect(publishers.get(t.publisher_id!)).toBe(records.find((r) => r.entry.id === t.id)!.entry.publisher);
    }
    for (const p of rows.parts) expect(titles.has(p.title_id)).toBe(true);
    for (const t of SPLIT_TABLES) {
      const keys = (rows[t.name] as object[]).map((r) => JSON.stringify(t.key.map((k) => (r as Record<string, unknown>)[k])));
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it('moves what other tables now hold out of a title, keeping the rest of the entry as it was', () => {
    const e = records.find((r) => r.entry.id === 'c64_cass:bootys')!.entry;
    expect(rows.titles.find((t) => t.id === e.id)).toEqual<TitleRow>({
      id: 'c64_cass:bootys',
      list: 'c64_cass',
      name: 'bootys',
      title: 'Booty (Silver)',
      alt_title: null,
      cloneof: 'booty',
      year: 1986,
      year_text: '1986',
      release_date: null,
      publisher_id: 4,
      developer: null,
      supported: 'yes',
      notes: null,
    });
    expect(rows.parts.filter((p) => p.title_id === e.id)).toEqual<PartRow[]>([
      { title_id: 'c64_cass:bootys', position: 1, name: 'cass1', interface: 'cbm_cass', roms: 1, rom_bytes: 298487, disks: 0 },
      { title_id: 'c64_cass:bootys', position: 2, name: 'cass2', interface: 'cbm_cass', roms: 1, rom_bytes: 306866, disks: 0 },
    ]);
    // The flat row's rom_bytes is the sum over the title's parts.
    for (const r of records) expect(rows.parts.filter((p) => p.title_id === r.entry.id).reduce((n, p) => n + p.rom_bytes, 0)).toBe(r.entry.rom_bytes);
  });

  it('names a list or publisher only with the first record that uses it, so streamed batches never repeat one', () => {
    const splitter = createMameSplitter();
    const perRecord = records.map((r) => splitter.split(r));
    expect(perRecord.map((x) => x.software_lists.length)).toEqual([1, 0, 0, 1, 0, 0, 1, 1, 0, 0]);
    expect(perRecord.flatMap((x) => x.publishers)).toEqual(rows.publishers);
  });

  it('goes on from known parents (mameParents) with the same ids, naming none of them again', async () => {
    async function* stream(): AsyncGenerator<MameRecord> {
      yield* records;
    }
    const parents = await mameParents(stream());
    expect(parents).toEqual({ software_lists: rows.software_lists, publishers: rows.publishers });
    const splitter = createMameSplitter(parents);
    const again = records.map((r) => splitter.split(r));
    expect(again.flatMap((x) => [...x.software_lists, ...x.publishers])).toEqual([]);
    expect(again.flatMap((x) => x.titles)).toEqual(rows.titles);
    const more = splitter.split({ ...records[0]!, entry: { ...records[0]!.entry, id: 'a5200:new', publisher: 'Newcomer' } });
    expect(more.publishers).toEqual([{ id: 9, name: 'Newcomer' }]);
  });

  it('gives a title without a publisher no publisher_id and no publisher row', () => {
    const r = records[0]!;
    const out = splitMame([{ ...r, entry: { ...r.entry, publisher: null } }]);
    expect(out.publishers).toEqual([]);
    expect(out.titles[0]!.publisher_id).toBeNull();
  });
});
