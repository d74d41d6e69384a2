import { parsePipelineConfig } from './pipeline';

const withRanking = (ranking: unknown) =>
  JSON.stringify({
    version: 1,
    indexes: {
      games: {
        table: 'games',
        fields: { title: { type: 'text', searchable: true, boost: 3 }, notes: { type: 'text' }, code: { type: 'keyword' }, plays: { type: 'long' }, released: { type: 'date' } },
        ranking,
      },
    },
  });

describe('pipeline config ranking', () => {
  it('compiles rules, a popularity field (desc by default) and the suggestion field', () => {
    const idx = parsePipelineConfig(withRanking({ rules: ['exactness', 'typo'], popularity: { field: 'plays' }, suggest: 'code' })).indexes[0]!;
    expect(idx.ranking).toEqual({ rules: ['exactness', 'typo'], popularity: { field: 'plays', order: 'desc' }, suggest: 'code' });
    expect(parsePipelineConfig(withRanking({ popularity: { field: 'released', order: 'asc' } })).indexes[0]!.ranking).toEqual({ rules: ['typo', 'attribute', 'exactness'], popularity: { field: 'released', order: 'asc' } });
  });
  it('leaves an index without ranking as it was (the defaults apply)', () => {
    const text = JSON.stringify({ version: 1, indexes: { g: { table: 'g', fields: { t: { type: 'text', searchable: true } } } } });
    expect(parsePipelineConfig(text).indexes[0]!.ranking).toBeUndefined();
  });
  it('names the path and the fix for an unknown or repeated rule and an unknown key', () => {
    expect(() => parsePipelineConfig(withRanking({ rules: ['typo', 'proximity'] }), 'p.json')).toThrow(/p\.json[\s\S]*\/indexes\/games\/ranking\/rules\/1: must be equal to one of the allowed values: typo, attribute, exactness/);
    expect(() => parsePipelineConfig(withRanking({ rules: ['typo', 'typo'] }))).toThrow(/\/indexes\/games\/ranking\/rules: must NOT have duplicate items/);
    expect(() => parsePipelineConfig(withRanking({ popularty: { field: 'plays' } }))).toThrow(/\/indexes\/games\/ranking: unknown key "popularty"/);
    expect(() => parsePipelineConfig(withRanking({ popularity: { field: 'plays', order: 'down' } }))).toThrow(/\/indexes\/games\/ranking\/popularity\/order: must be equal to one of the allowed values: desc, asc/);
  });
  it('refuses a popularity field that is missing or not a number or date, saying what to name', () => {
    expect(() => parsePipelineConfig(withRanking({ popularity: { field: 'views' } }))).toThrow(/\/indexes\/games\/ranking\/popularity\/field: "views" is not a field of this index; name a numeric or date field/);
    expect(() => parsePipelineConfig(withRanking({ popularity: { field: 'code' } }))).toThrow(/\/indexes\/games\/ranking\/popularity\/field: "code" is keyword; a popularity field must be integer, long, float, double or date/);
  });
  it('refuses a suggestion field that has no whole value to complete', () => {
    expect(() => parsePipelineConfig(withRanking({ suggest: 'notes' }))).toThrow(/\/indexes\/games\/ranking\/suggest: "notes" is a text field that is not searchable; suggestions complete a keyword field or a text field with "searchable": true/);
    expect(() => parsePipelineConfig(withRanking({ suggest: 'plays' }))).toThrow(/\/indexes\/games\/ranking\/suggest: "plays" is long/);
    expect(() => parsePipelineConfig(withRanking({ suggest: 'nope' }))).toThrow(/"nope" is not a field of this index/);
  });
});
