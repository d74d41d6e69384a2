/**
 * Pure mapping from what one `<software>` element says to one row of the software table.
 * Kept apart from the XML walking so the rules (years, dates, sizes) can be tested on plain
 * objects, without files or streams.
 */

export type MameSupport = 'yes' | 'partial' | 'no';

/** One row of the software table; keys are the column names so the loader needs no mapping. */
export interface MameEntry {
  /** `<list>:<software name>`: software names are only unique within a list. */
  id: string;
  list: string;
  list_description: string | null;
  name: string;
  title: string;
  alt_title: string | null;
  cloneof: string | null;
  year: number | null;
  year_text: string | null;
  /** ISO `YYYY-MM-DD`, only when the release info names a full, real calendar day. */
  release_date: string | null;
  publisher: string | null;
  developer: string | null;
  supported: MameSupport;
  rom_bytes: number;
  notes: string | null;
}

/** The element's content as written, before any interpretation. */
export interface RawSoftware {
  list: string;
  listDescription: string | null;
  name: string;
  cloneof: string | null;
  supported: string | null;
  description: string | null;
  year: string | null;
  publisher: string | null;
  notes: string | null;
  /** `<info name value>` in document order; a name may repeat. */
  info: ReadonlyArray<{ name: string; value: string | null }>;
  /** The `size` attribute of every `<rom>`, as written (decimal, `0x` hex, padded with spaces). */
  romSizes: ReadonlyArray<string>;
  /** `<part>` children in document order: a cartridge, each floppy of a set, each CD... */
  parts: ReadonlyArray<RawPart>;
}

/** One `<part>` as written: its attributes and what its data and disk areas hold. */
export interface RawPart {
  name: string;
  interface: string | null;
  /** The `size` of each `<rom>` in it (a subset of the software's `romSizes`). */
  romSizes: ReadonlyArray<string>;
  /** `<rom>`s with a `name` (files; nameless ones continue or reload a file's data). */
  romFiles: number;
  /** `<disk>`s (CHD images: CDs, hard disks), which have no size in the lists. */
  disks: number;
}

/** One part of a software entry, normalised; position is 1-based, in document order. */
export interface MamePart {
  position: number;
  name: string;
  interface: string | null;
  roms: number;
  rom_bytes: number;
  disks: number;
}

/** A software entry and its parts, as the parser yields them for the demo's joined tables. */
export interface MameRecord {
  entry: MameEntry;
  parts: MamePart[];
}

export function normaliseSoftware(raw: RawSoftware): MameEntry {
  const name = raw.name.trim();
  const list = raw.list.trim();
  const yearText = clean(raw.year);
  return {
    id: `${list}:${name}`,
    list,
    list_description: clean(raw.listDescription),
    name,
    // The DTD requires <description>; falling back to the short name keeps the row searchable
    // instead of failing a 133k-row load over one malformed entry.
    title: clean(raw.description) ?? name,
    alt_title: firstInfo(raw, 'alt_title'),
    cloneof: clean(raw.cloneof),
    year: parseYear(yearText),
    year_text: yearText,
    release_date: parseReleaseDate(firstInfo(raw, 'release')),
    publisher: clean(raw.publisher),
    developer: firstInfo(raw, 'developer'),
    supported: parseSupported(raw.supported, raw),
    rom_bytes: sumRomSizes(raw.romSizes),
    notes: clean(raw.notes),
  };
}

/**
 * The entry's parts. A part's `rom_bytes` follow sumRomSizes, so they add up to the entry's
 * `rom_bytes` (every `<rom>` of a well-formed list is inside a part). A nameless part keeps its
 * position as its name rather than being dropped.
 */
export function normaliseParts(raw: RawSoftware): MamePart[] {
  return raw.parts.map((p, i) => ({
    position: i + 1,
    name: clean(p.name) ?? String(i + 1),
    interface: clean(p.interface),
    roms: p.romFiles,
    rom_bytes: sumRomSizes(p.romSizes),
    disks: p.disks,
  }));
}

/** `"1994"` → 1994; anything vaguer (`"199?"`, `"19??"`, `"1986?"`, `""`) → null. */
export function parseYear(text: string | null | undefined): number | null {
  const t = text?.trim();
  return t && /^\d{4}$/.test(t) ? Number(t) : null;
}

/**
 * `"19930723"` (the usual form) or `"1993-07-23"` (used by a few lists) → `"1993-07-23"`.
 * Partial dates (`"199307xx"`), impossible days (`"19930231"`) and values carrying a region or
 * several dates (`"19930723 (JPN)"`) → null: a date column must not claim more than the list does.
 */
export function parseReleaseDate(text: string | null | undefined): string | null {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text?.trim() ?? '');
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return null;
  // Date.UTC rolls 31 April over to 1 May, so a round trip rejects days a month lacks.
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** Sizes are decimal or `0x` hex, sometimes space-padded; an absent or unreadable size adds 0. */
export function sumRomSizes(sizes: ReadonlyArray<string>): number {
  let total = 0;
  for (const s of sizes) total += parseRomSize(s);
  return total;
}

export function parseRomSize(size: string): number {
  const t = size.trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  return 0;
}

function parseSupported(value: string | null, raw: RawSoftware): MameSupport {
  const v = clean(value) ?? 'yes'; // the DTD's default
  if (v === 'yes' || v === 'partial' || v === 'no') return v;
  throw new Error(`software "${raw.name}" in list "${raw.list}" has supported="${v}"; expected yes, partial or no`);
}

function firstInfo(raw: RawSoftware, name: string): string | null {
  for (const i of raw.info) {
    const v = i.name === name ? clean(i.value) : null;
    if (v) return v;
  }
  return null;
}

/** Trimmed text, or null when nothing is left: an empty element says no more than a missing one. */
function clean(s: string | null | undefined): string | null {
  const t = s?.trim();
  return t ? t : null;
}
