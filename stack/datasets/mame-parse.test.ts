import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  normaliseParts,
  normaliseSoftware,
  parseMameFile,
  parseMameLists,
  parseMameRecords,
  parseReleaseDate,
  parseRomSize,
  parseSoftwareList,
  parseYear,
  type MameEntry,
  type MamePart,
  type RawSoftware,
} from './mame-parse';

const HASH = join(__dirname, 'fixtures', 'mame-hash');

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('parseMameLists on real excerpts', () => {
  let entries: MameEntry[];
  const byId = (id: string): MameEntry => {
    const e = entries.find((x) => x.id === id);
    if (!e) throw new Error(`no entry ${id}`);
    return e;
  };
  beforeAll(async () => {
    entries = await collect(parseMameLists(HASH));
  });

  it('yields every live entry, files in name order, and none of the commented-out ones', () => {
    expect(entries.map((e) => e.id)).toEqual([
      'a5200:bzonea',
      'a5200:bbsb',
      'a5200:tempest',
      'c64_cass:booty',
      'c64_cass:bootys',
      'c64_cass:wiz',
      'ibm5170_cdrom:orgaslave',
      'pico:3chometm',
      'pico:poohcornf',
      'pico:ahirupek',
    ]);
    // Present in the files only inside <!-- -->.
    for (const name of ['barbball', 'hellokmd', 'hucklowlf']) {
      expect(entries.some((e) => e.name === name)).toBe(false);
    }
  });

  it('keeps a partial release date out of release_date but keeps the rest', () => {
    expect(byId('pico:3chometm')).toEqual<MameEntry>({
      id: 'pico:3chometm',
      list: 'pico',
      list_description: 'Sega Pico cartridges',
      name: '3chometm',
      title: '3-choume no Tama Momo-chan wa Doko! (Japan, rev. A)',
      alt_title: '3丁目のタマ モモちゃんはどこ!',
      cloneof: null,
      year: 1999,
      year_text: '1999',
      release_date: null, // 199407xx
      publisher: 'Sega',
      developer: null,
      supported: 'yes',
      rom_bytes: 524288,
      notes: null,
    });
  });

  it('turns a "199?" year into null while keeping the text, and reads clone and support status', () => {
    const e = byId('pico:poohcornf');
    expect(e).toMatchObject({ year: null, year_text: '199?', cloneof: 'poohcorn', supported: 'no' });
    // The list spells "Année" with a combining accent (e + U+0301); titles are kept as written.
    expect(e.title).toBe("Une Anne\u0301e en Compagnie de Winnie l'Ourson (France)");
  });

  it('converts a full YYYYMMDD release to an ISO date', () => {
    expect(byId('pico:ahirupek').release_date).toBe('1995-11-04');
  });

  it('sums hex rom sizes, reads CDATA notes and the developer info', () => {
    expect(byId('a5200:bzonea').rom_bytes).toBe(4 * 0x2000);
    expect(byId('a5200:bbsb')).toMatchObject({
      supported: 'partial',
      notes: 'Sometimes it throws [GTIA] glitchy frames (noticeable on player deaths)',
    });
    expect(byId('a5200:tempest').developer).toBe('Keithen Hayenga');
  });
});

describe('parseMameRecords: the parts of each entry', () => {
  it('gives each entry its parts in document order, whose rom bytes add up to the entry\'s', async () => {
    const records = await collect(parseMameRecords(HASH));
    expect(records.map((r) => r.entry)).toEqual(await collect(parseMameLists(HASH)));
    for (const r of records) expect(r.parts.reduce((n, p) => n + p.rom_bytes, 0)).toBe(r.entry.rom_bytes);
    const parts = (id: string): MamePart[] => records.find((r) => r.entry.id === id)!.parts;
    // Two cassettes, one file each.
    expect(parts('c64_cass:wiz')).toEqual<MamePart[]>([
      { position: 1, name: 'cass1', interface: 'cbm_cass', roms: 1, rom_bytes: 671678, disks: 0 },
      { position: 2, name: 'cass2', interface: 'cbm_cass', roms: 1, rom_bytes: 671647, disks: 0 },
    ]);
    // Two CDs: disk images, no rom sizes.
    expect(parts('ibm5170_cdrom:orgaslave')).toEqual<MamePart[]>([
      { position: 1, name: 'cdrom1', interface: 'cdrom', roms: 0, rom_bytes: 0, disks: 1 },
      { position: 2, name: 'cdrom2', interface: 'cdrom', roms: 0, rom_bytes: 0, disks: 1 },
    ]);
    // One cartridge of four hex-sized files.
    expect(parts('a5200:bzonea')).toEqual<MamePart[]>([{ position: 1, name: 'cart', interface: 'a8bit_cart', roms: 4, rom_bytes: 0x8000, disks: 0 }]);
  });

  it('counts nameless roms (continue, reload) as bytes of the part but not as files', async () => {
    const doc = `<softwarelist name="l"><software name="s"><description>S</description>
      <part name="cart" interface="c"><dataarea name="rom" size="0x3000">
        <rom name="a.bin" size="0x1000" offset="0"/><rom size="0x1000" offset="0x1000" loadflag="continue"/>
        <rom size="0x1000" offset="0x2000" loadflag="reload"/></dataarea></part>
      <part interface="d"><feature name="part_id" value="Disk 2"/></part></software></softwarelist>`;
    const [raw] = await collect(parseSoftwareList([doc]));
    expect(normaliseParts(raw!)).toEqual<MamePart[]>([
      { position: 1, name: 'cart', interface: 'c', roms: 1, rom_bytes: 0x3000, disks: 0 },
      { position: 2, name: '2', interface: 'd', roms: 0, rom_bytes: 0, disks: 0 },
    ]);
  });
});

describe('parseSoftwareList', () => {
  const xml = readFileSync(join(HASH, 'pico.xml'), 'utf8');

  it('gives the same result however the input is chunked', async () => {
    const whole = await collect(parseSoftwareList([xml], 'pico.xml'));
    const tiny: string[] = [];
    for (let i = 0; i < xml.length; i += 7) tiny.push(xml.slice(i, i + 7));
    expect(await collect(parseSoftwareList(tiny, 'pico.xml'))).toEqual(whole);
    expect(whole).toHaveLength(3);
  });

  it('hands out an entry before reading the rest of the file', async () => {
    let pulled = 0;
    const lines = xml.split(/(?<=\n)/);
    function* chunks(): Generator<string> {
      for (const l of lines) {
        pulled++;
        yield l;
      }
    }
    const it = parseSoftwareList(chunks(), 'pico.xml')[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toMatchObject({ name: '3chometm' });
    expect(pulled).toBeLessThan(lines.length / 2);
  });

  it('reports malformed XML with the source name', async () => {
    const bad = '<softwarelist name="x"><software name="a"><description>A</software></softwarelist>';
    await expect(collect(parseSoftwareList([bad], 'bad.xml'))).rejects.toThrow(/bad\.xml/);
  });

  it('refuses a file that is not a software list', async () => {
    await expect(collect(parseSoftwareList(['<mame><machine name="x"/></mame>'], 'mame.xml'))).rejects.toThrow(/expected <softwarelist/);
  });

  it('ignores list-level notes and feature values named like fields', async () => {
    const doc = `<softwarelist name="l"><notes>list notes</notes>
      <software name="s"><description> Title  </description><year>1990</year><publisher/>
        <part name="p" interface="i"><feature name="description" value="no"/>
          <dataarea name="rom" size="4"><rom name="r" size=" 4"/></dataarea></part>
      </software></softwarelist>`;
    const [raw] = await collect(parseSoftwareList([doc]));
    expect(raw).toBeDefined();
    expect(normaliseSoftware(raw!)).toMatchObject({ title: 'Title', notes: null, publisher: null, rom_bytes: 4, year: 1990 });
  });

  it('parseMameFile reads one list from disk', async () => {
    expect((await collect(parseMameFile(join(HASH, 'a5200.xml')))).map((e) => e.name)).toEqual(['bzonea', 'bbsb', 'tempest']);
  });
});

describe('field normalisation', () => {
  it.each([
    ['1986', 1986],
    [' 1994 ', 1994],
    ['199?', null],
    ['19??', null],
    ['1986?', null],
    ['????', null],
    ['19860101', null],
    ['', null],
    [null, null],
  ])('parseYear(%j) = %j', (text, want) => {
    expect(parseYear(text)).toBe(want);
  });

  it.each([
    ['19930723', '1993-07-23'],
    ['1993-07-23', '1993-07-23'],
    ['20000229', '2000-02-29'],
    ['19000229', null],
    ['19930231', null],
    ['19931301', null],
    ['19930700', null],
    ['199307xx', null],
    ['1993xxxx', null],
    ['1993', null],
    ['19930723 (JPN)', null],
    ['SBG01', null],
    ['', null],
    [null, null],
  ])('parseReleaseDate(%j) = %j', (text, want) => {
    expect(parseReleaseDate(text)).toBe(want);
  });

  it.each([
    ['32768', 32768],
    ['    614400', 614400],
    ['0x2000', 8192],
    ['0X1b1', 0x1b1],
    ['', 0],
    ['big', 0],
  ])('parseRomSize(%j) = %j', (size, want) => {
    expect(parseRomSize(size)).toBe(want);
  });

  const raw: RawSoftware = {
    list: 'snes',
    listDescription: 'Nintendo Super NES cartridges',
    name: 'ffant3',
    cloneof: null,
    supported: null,
    description: '  Final Fantasy III (USA, Rev. A) ',
    year: '1994',
    publisher: 'Square',
    notes: '\n',
    info: [
      { name: 'alt_title', value: '' },
      { name: 'release', value: '199410xx' },
      { name: 'alt_title', value: 'ファイナルファンタジーVI' },
      { name: 'developer', value: 'Square' },
    ],
    romSizes: ['3145728', '0x100'],
    parts: [{ name: 'cart', interface: 'snes_cart', romSizes: ['3145728', '0x100'], romFiles: 2, disks: 0 }],
  };

  it('normaliseSoftware maps a raw element to a row', () => {
    expect(normaliseSoftware(raw)).toEqual<MameEntry>({
      id: 'snes:ffant3',
      list: 'snes',
      list_description: 'Nintendo Super NES cartridges',
      name: 'ffant3',
      title: 'Final Fantasy III (USA, Rev. A)',
      alt_title: 'ファイナルファンタジーVI', // first non-empty one
      cloneof: null,
      year: 1994,
      year_text: '1994',
      release_date: null,
      publisher: 'Square',
      developer: 'Square',
      supported: 'yes',
      rom_bytes: 3145728 + 256,
      notes: null,
    });
  });

  it('falls back to the short name when there is no description, and rejects unknown support values', () => {
    expect(normaliseSoftware({ ...raw, description: null }).title).toBe('ffant3');
    expect(() => normaliseSoftware({ ...raw, supported: 'maybe' })).toThrow(/supported="maybe"/);
  });
});
