/**
 * Streaming reader for MAME software lists (`hash/*.xml`). A real XML parser, because the lists
 * comment out whole `<software>` blocks and mention tags inside comments; regexes would load
 * entries MAME itself ignores. Memory stays bounded: one file open at a time, one read chunk
 * parsed at a time, and the entries it completed are handed out before the next chunk is read.
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { normaliseParts, normaliseSoftware, type MameEntry, type MameRecord, type RawPart, type RawSoftware } from './mame-normalise';

export { normaliseParts, normaliseSoftware, parseReleaseDate, parseRomSize, parseYear, sumRomSizes } from './mame-normalise';
export type { MameEntry, MamePart, MameRecord, MameSupport, RawPart, RawSoftware } from './mame-normalise';

export interface ParseOptions {
  /** Called before each list file is opened, for progress output. */
  onFile?: (file: string, index: number, total: number) => void;
}

/** Every entry of every `*.xml` list in `hashDir`, files in name order, entries in document order. */
export async function* parseMameLists(hashDir: string, opts: ParseOptions = {}): AsyncGenerator<MameEntry> {
  for await (const r of parseMameRecords(hashDir, opts)) yield r.entry;
}

/** Like parseMameLists, each entry with its `<part>`s (what the demo's joined tables are split from). */
export async function* parseMameRecords(hashDir: string, opts: ParseOptions = {}): AsyncGenerator<MameRecord> {
  const files = (await readdir(hashDir)).filter((f) => f.endsWith('.xml')).sort();
  if (files.length === 0) throw new Error(`No *.xml software lists in ${hashDir}; expected mame-data's usr/share/games/mame/hash.`);
  for (const [i, file] of files.entries()) {
    opts.onFile?.(file, i, files.length);
    yield* parseMameFileRecords(join(hashDir, file));
  }
}

export async function* parseMameFile(path: string): AsyncGenerator<MameEntry> {
  for await (const r of parseMameFileRecords(path)) yield r.entry;
}

async function* parseMameFileRecords(path: string): AsyncGenerator<MameRecord> {
  // 256 KiB reads: few enough syscalls for 106 MB of lists, small enough to stay bounded.
  const chunks = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 }) as AsyncIterable<string>;
  for await (const raw of parseSoftwareList(chunks, path)) yield { entry: normaliseSoftware(raw), parts: normaliseParts(raw) };
}

type TextField = 'description' | 'year' | 'publisher' | 'notes';
const TEXT_FIELDS: ReadonlySet<string> = new Set<TextField>(['description', 'year', 'publisher', 'notes']);

type Building = { -readonly [K in Exclude<keyof RawSoftware, 'info' | 'romSizes' | 'parts'>]: RawSoftware[K] } & {
  info: Array<{ name: string; value: string | null }>;
  romSizes: string[];
  parts: Array<Omit<RawPart, 'romSizes'> & { romSizes: string[]; romFiles: number; disks: number }>;
};

/**
 * The `<software>` elements of one list, as written. Takes decoded text chunks (a file stream
 * opened with an encoding, or plain strings in tests); `source` names the input in errors.
 */
export async function* parseSoftwareList(
  chunks: AsyncIterable<string> | Iterable<string>,
  source = '<xml>',
): AsyncGenerator<RawSoftware> {
  const parser = new SaxesParser({ fileName: source });
  const done: RawSoftware[] = [];
  let list: { name: string; description: string | null } | null = null;
  let sw: Building | null = null;
  // Depth of the open element: softwarelist = 1, software = 2, its fields = 3. Only direct
  // children count, so a list-level <notes> or a <feature name="description"> is never mistaken.
  let depth = 0;
  let field: TextField | null = null;
  let text = '';

  parser.on('opentag', (tag) => {
    depth++;
    const attr = tag.attributes as Record<string, string | undefined>;
    if (depth === 1) {
      if (tag.name !== 'softwarelist' || !attr.name?.trim()) {
        throw new Error(`${source}: root is <${tag.name}>${attr.name ? '' : ' without a name'}; expected <softwarelist name="...">`);
      }
      list = { name: attr.name, description: attr.description ?? null };
    } else if (depth === 2 && tag.name === 'software' && list) {
      sw = {
        list: list.name,
        listDescription: list.description,
        name: attr.name ?? '',
        cloneof: attr.cloneof ?? null,
        supported: attr.supported ?? null,
        description: null,
        year: null,
        publisher: null,
        notes: null,
        info: [],
        romSizes: [],
        parts: [],
      };
      if (!sw.name.trim()) throw new Error(`${source}:${parser.line}: <software> without a name`);
    } else if (sw && depth === 3 && TEXT_FIELDS.has(tag.name)) {
      field = tag.name as TextField;
      text = '';
    } else if (sw && depth === 3 && tag.name === 'info' && attr.name) {
      sw.info.push({ name: attr.name, value: attr.value ?? null });
    } else if (sw && depth === 3 && tag.name === 'part') {
      sw.parts.push({ name: attr.name ?? '', interface: attr.interface ?? null, romSizes: [], romFiles: 0, disks: 0 });
    } else if (sw && tag.name === 'rom') {
      // Every <rom> sits in a <part>'s <dataarea>; one without a name continues or reloads the
      // previous file's data (loadflag), so it adds bytes but is not a file of its own.
      const part = depth > 3 ? sw.parts.at(-1) : undefined;
      if (attr.size !== undefined) {
        sw.romSizes.push(attr.size);
        part?.romSizes.push(attr.size);
      }
      if (part && attr.name !== undefined) part.romFiles++;
    } else if (sw && depth > 3 && tag.name === 'disk') {
      const part = sw.parts.at(-1);
      if (part) part.disks++;
    }
  });
  const onText = (t: string): void => {
    if (field) text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    if (depth === 3 && field && sw) {
      sw[field] = text;
      field = null;
    } else if (depth === 2 && sw) {
      done.push(sw);
      sw = null;
    }
    depth--;
  });

  // saxes reports malformed XML by throwing from write()/close(), with file:line:column.
  for await (const chunk of chunks) {
    parser.write(chunk);
    yield* done.splice(0);
  }
  parser.close();
  yield* done.splice(0);
  if (!list) throw new Error(`${source}: no <softwarelist> element`);
}
