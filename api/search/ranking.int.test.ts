import { createApiIndex, type ApiIndex } from '../../e2e/support/api-index';
import { es } from '../../e2e/support/services';

/**
 * The ranking rules and suggestions against the real Elasticsearch, on a copy of the demo index
 * (the indexer's mapping, with its `.exact` sub-fields; popularity rom_bytes, config/pipelines/demo.json).
 */
describe('ranking and suggestions against Elasticsearch', () => {
  const elastic = es();
  let ix: ApiIndex;
  const doc = (id: string, title: string, rom_bytes: number, more: Record<string, unknown> = {}) => ({ id, title, rom_bytes, system: 'nes', year: 1990, supported: 'yes', ...more });

  beforeAll(async () => {
    ix = await createApiIndex(elastic, [
      doc('tetris', 'Tetris', 1_000),
      // A longer name repeating the word, in its notes and alternative title too: BM25 adds all of it up.
      doc('tetris-attack', 'Tetris Tetris Attack', 9_000_000, { alt_title: 'Tetris', notes: 'tetris tetris tetris, the tetris game' }),
      doc('castlevania', 'Castlevania', 2_000),
      doc('castle', 'Castle Quest', 3_000),
      doc('smb', 'Super Mario Bros.', 40_000),
      // Indexed first, so without the popularity sort it would win the tie.
      doc('smw-rev', 'Super Mario World', 100_000, { system: 'snes' }),
      doc('smw', 'Super Mario World', 512_000),
      doc('metroid', 'Super Metroid', 3_000_000),
      doc('kart', 'Mario Super Kart', 8_000_000),
    ]);
  });
  afterAll(async () => {
    await ix?.drop();
    await elastic.close();
  });

  const ids = async (q: string) => {
    const res = await ix.http.get(ix.path('search')).query({ q });
    expect(res.status).toBe(200);
    return res.body.hits.map((h: { id: string }) => h.id) as string[];
  };

  it('ranks the exact name first over a longer name repeating the word', async () => {
    expect((await ids('Tetris'))[0]).toBe('tetris');
    expect((await ids('tetris'))[0]).toBe('tetris');
  });

  it('finds a name with a typo in its first letter, and any other letter', async () => {
    expect((await ids('Vastlevania'))[0]).toBe('castlevania');
    expect((await ids('Castlevanai'))[0]).toBe('castlevania');
    expect(await ids('Xuper Metroid')).toContain('metroid');
  });

  it('orders equally relevant hits by popularity', async () => {
    // Both "Super Mario World" are exact title matches; the larger rom_bytes first.
    expect((await ids('super mario world')).slice(0, 2)).toEqual(['smw', 'smw-rev']);
  });

  it('suggests values that start with the typed text, once each, the most popular first', async () => {
    const res = await ix.http.get(ix.path('suggest')).query({ q: 'SUPER m', size: 10 });
    expect(res.status).toBe(200);
    // "Mario Super Kart" holds the words but does not start with them; it is left out.
    expect(res.body.suggestions).toEqual(['Super Metroid', 'Super Mario World', 'Super Mario Bros.']);
    const next = await ix.http.get(ix.path('suggest')).query({ q: 'super mario ', size: 10 });
    expect(next.body.suggestions).toEqual(['Super Mario World', 'Super Mario Bros.']);
    const filtered = await ix.http.get(ix.path('suggest')).query({ q: 'super mario w', filter: 'system:snes' });
    expect(filtered.body.suggestions).toEqual(['Super Mario World']);
  });
});
