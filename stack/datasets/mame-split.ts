/**
 * The MAME software lists split into the related tables they naturally hold, for the demo's
 * joined index (config/pipelines/demo.json, index `titles`):
 *
 *   software_lists (name PK, description)           one per list file: a system's carts, floppies...
 *   publishers     (id PK, name UNIQUE)             each distinct <publisher> text, as written
 *   titles         (id PK, list → software_lists, publisher_id → publishers, ...)   one per <software>
 *   parts          ((title_id, position) PK, title_id → titles, name, interface, roms, rom_bytes, disks)
 *
 * Nothing is invented: every row is a list, an entry, a publisher string or a <part> of the
 * files. The flat `software` table (mame-load.ts) is loaded beside these, unchanged.
 */
import type { MameRecord, MameSupport } from './mame-normalise';

export interface SoftwareListRow { name: string; description: string | null }
export interface PublisherRow { id: number; name: string }
/** A software entry without what moved to other tables (list description, publisher name, rom bytes: see parts). */
export interface TitleRow {
  id: string;
  list: string;
  name: string;
  title: string;
  alt_title: string | null;
  cloneof: string | null;
  year: number | null;
  year_text: string | null;
  release_date: string | null;
  publisher_id: number | null;
  developer: string | null;
  supported: MameSupport;
  notes: string | null;
}
export interface PartRow { title_id: string; position: number; name: string; interface: string | null; roms: number; rom_bytes: number; disks: number }

/** Rows of each table, parents before children (the order they must be inserted in). */
export interface SplitRows {
  software_lists: SoftwareListRow[];
  publishers: PublisherRow[];
  titles: TitleRow[];
  parts: PartRow[];
}

export interface SplitTable<R> {
  name: keyof SplitRows;
  columns: ReadonlyArray<keyof R & string>;
  key: ReadonlyArray<keyof R & string>;
  ddl: (qtable: (t: keyof SplitRows) => string) => string[];
}

const table = <R>(t: SplitTable<R>): SplitTable<R> => t;

/** The tables in insert order; columns typed against the row types so a renamed field fails to compile. */
export const SPLIT_TABLES = [
  table<SoftwareListRow>({
    name: 'software_lists',
    columns: ['name', 'description'],
    key: ['name'],
    ddl: (q) => [`CREATE TABLE IF NOT EXISTS ${q('software_lists')} (name text PRIMARY KEY, description text)`],
  }),
  table<PublisherRow>({
    name: 'publishers',
    columns: ['id', 'name'],
    key: ['id'],
    ddl: (q) => [`CREATE TABLE IF NOT EXISTS ${q('publishers')} (id integer PRIMARY KEY, name text NOT NULL UNIQUE)`],
  }),
  table<TitleRow>({
    name: 'titles',
    columns: ['id', 'list', 'name', 'title', 'alt_title', 'cloneof', 'year', 'year_text', 'release_date', 'publisher_id', 'developer', 'supported', 'notes'],
    key: ['id'],
    // The foreign-key columns are indexed: a changed list or publisher finds its titles through them.
    ddl: (q) => [
      `CREATE TABLE IF NOT EXISTS ${q('titles')} (
  id text PRIMARY KEY,
  list text NOT NULL REFERENCES ${q('software_lists')} (name),
  name text NOT NULL,
  title text NOT NULL,
  alt_title text,
  cloneof text,
  year integer,
  year_text text,
  release_date date,
  publisher_id integer REFERENCES ${q('publishers')} (id),
  developer text,
  supported text NOT NULL DEFAULT 'yes',
  notes text
)`,
      `CREATE INDEX IF NOT EXISTS titles_list_idx ON ${q('titles')} (list)`,
      `CREATE INDEX IF NOT EXISTS titles_publisher_id_idx ON ${q('titles')} (publisher_id)`,
    ],
  }),
  table<PartRow>({
    name: 'parts',
    columns: ['title_id', 'position', 'name', 'interface', 'roms', 'rom_bytes', 'disks'],
    key: ['title_id', 'position'],
    // The primary key leads with title_id, so it is also the foreign key's index.
    ddl: (q) => [
      `CREATE TABLE IF NOT EXISTS ${q('parts')} (
  title_id text NOT NULL REFERENCES ${q('titles')} (id),
  position integer NOT NULL,
  name text NOT NULL,
  interface text,
  roms integer NOT NULL DEFAULT 0,
  rom_bytes bigint NOT NULL DEFAULT 0,
  disks integer NOT NULL DEFAULT 0,
  PRIMARY KEY (title_id, position)
)`,
    ],
  }),
] as const;

/**
 * Splits records one at a time, as they stream from the parser: a list or a publisher is
 * emitted with the first record that names it. Publisher ids count up from 1 in order of first
 * appearance, so the same files (read in the parser's order) always give the same ids.
 */
export function createMameSplitter(known?: MameParents): { split(record: MameRecord): SplitRows } {
  const lists = new Set<string>(known?.software_lists.map((l) => l.name));
  const publishers = new Map<string, number>(known?.publishers.map((p) => [p.name, p.id]));
  return {
    split({ entry: e, parts }) {
      const out: SplitRows = { software_lists: [], publishers: [], titles: [], parts: [] };
      if (!lists.has(e.list)) {
        lists.add(e.list);
        out.software_lists.push({ name: e.list, description: e.list_description });
      }
      let publisherId: number | null = null;
      if (e.publisher !== null) {
        publisherId = publishers.get(e.publisher) ?? null;
        if (publisherId === null) {
          publisherId = publishers.size + 1; // ids are 1..n, so size + 1 is free
          publishers.set(e.publisher, publisherId);
          out.publishers.push({ id: publisherId, name: e.publisher });
        }
      }
      out.titles.push({
        id: e.id,
        list: e.list,
        name: e.name,
        title: e.title,
        alt_title: e.alt_title,
        cloneof: e.cloneof,
        year: e.year,
        year_text: e.year_text,
        release_date: e.release_date,
        publisher_id: publisherId,
        developer: e.developer,
        supported: e.supported,
        notes: e.notes,
      });
      for (const p of parts) out.parts.push({ title_id: e.id, position: p.position, name: p.name, interface: p.interface, roms: p.roms, rom_bytes: p.rom_bytes, disks: p.disks });
      return out;
    },
  };
}

/** The rows many titles share: lists and publishers. */
export type MameParents = Pick<SplitRows, 'software_lists' | 'publishers'>;

/**
 * The lists and publishers of all records, with the ids a splitter gives them; seed
 * createMameSplitter with them to go on with the same ids. A first pass over the files (a few
 * seconds) so the loader can commit the parents before any title.
 */
export async function mameParents(records: AsyncIterable<MameRecord>): Promise<MameParents> {
  const splitter = createMameSplitter();
  const out: MameParents = { software_lists: [], publishers: [] };
  for await (const r of records) {
    const rows = splitter.split(r);
    out.software_lists.push(...rows.software_lists);
    out.publishers.push(...rows.publishers);
  }
  return out;
}

/** Every record's rows, concatenated per table. */
export function splitMame(records: Iterable<MameRecord>): SplitRows {
  const splitter = createMameSplitter();
  const all: SplitRows = { software_lists: [], publishers: [], titles: [], parts: [] };
  for (const r of records) appendRows(all, splitter.split(r));
  return all;
}

export function appendRows(into: SplitRows, rows: SplitRows): void {
  into.software_lists.push(...rows.software_lists);
  into.publishers.push(...rows.publishers);
  into.titles.push(...rows.titles);
  into.parts.push(...rows.parts);
}
