import { parsePipelineConfig } from '../../config/pipeline';
import { refusal } from './reconciler';

describe('which indexes reconcile compares', () => {
  const pipeline = parsePipelineConfig(JSON.stringify({
    version: 1,
    indexes: {
      books: { table: 'public.books', fields: { title: { type: 'text', searchable: true } } },
      titles: {
        table: 'public.titles', fields: { title: { type: 'text', searchable: true } },
        relations: { publisher: { table: 'public.publishers', kind: 'many-to-one', on: { publisher_id: 'id' }, fields: { name: { type: 'text' } } } },
      },
    },
  }));
  const spec = (name: string) => pipeline.indexes.find((i) => i.name === name)!;

  it('compares a single-table index', () => {
    expect(refusal(spec('books'), [])).toBeUndefined();
  });
  it('refuses a joined index, naming its tables and what to do instead', () => {
    expect(refusal(spec('titles'), [])).toBe(
      'index titles joins related tables (public.publishers) into its documents; reconcile compares single-table indexes only. ' +
        'Rebuild it with npm run reindex -- titles, or copy its tables again with npm run resnapshot -- public.titles.',
    );
  });
  it('refuses an index fed by the event intake: it has no rows', () => {
    expect(refusal(spec('books'), ['public.books'])).toMatch(/fed by POST \/v1\/events \(INGEST_HTTP_TABLES\), not from Postgres rows/);
  });
});
