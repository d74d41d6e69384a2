import type { Client as EsClient } from '@elastic/elasticsearch';
import type { PipelineConfig } from '../../config/pipeline';
import type { DeadLetter } from './record';
import { replay } from './replay';

const pipeline = { version: 1, indexes: [{ name: 'books', source: { schema: 'public', table: 'books' }, fields: [] }] } as unknown as PipelineConfig;
const parked = (over: Partial<DeadLetter> = {}): DeadLetter => ({ ref: '0-1', parkedAt: '2026-12-01T10:00:00.000Z', stage: 'indexer', index: 'books', id: '7', table: 'public.books', topic: 'cdc.public.books', partition: 0, offset: '5', lsn: '90', commitLsn: '18446744073709551000', errorType: 'document_parsing_exception', reason: 'x', payload: '{"title":"t"}', ...over });

/** An Elasticsearch holding one document (or none) that records the writes it is sent. */
function fakeEs(current: { version: number } | undefined, write: (req: { method: string; path: string; querystring: Record<string, string> }) => unknown = () => ({})) {
  const requests: Array<{ method: string; path: string; querystring: Record<string, string>; body?: unknown }> = [];
  const es = {
    get: async () => (current ? { found: true, _version: current.version } : { found: false }),
    transport: { request: async (req: { method: string; path: string; querystring: Record<string, string>; body?: unknown }) => (requests.push(req), write(req)) },
  } as unknown as EsClient;
  return { es, requests };
}
const conflict = (): never => {
  throw Object.assign(new Error('version_conflict_engine_exception'), { meta: { statusCode: 409, body: { error: { type: 'version_conflict_engine_exception', reason: 'current version [..] is higher' } } } });
};

describe('replaying a parked document', () => {
  it('writes it with its original version, exactly (above 2^53), as version_type external', async () => {
    const { es, requests } = fakeEs({ version: 5 });
    const [r] = await replay([parked()], { es, pipeline, slot: 's', waitMs: 0 });
    expect(r).toMatchObject({ outcome: 'replayed', how: 'parked-document' });
    expect(requests).toEqual([{ method: 'PUT', path: '/books/_doc/7', querystring: { version: '18446744073709551000', version_type: 'external' }, body: { title: 't' } }]);
  });

  it('is superseded when a newer version reaches the index between the check and the write (Elasticsearch answers 409)', async () => {
    const { es } = fakeEs(undefined, conflict);
    const db = { query: async (text: string) => (text.includes('pg_attribute') ? { rows: [{ name: 'id', oid: 23 }] } : text.includes('pg_index') ? { rows: [{ name: 'id' }] } : { rowCount: 1, rows: [{}] }) };
    const [r] = await replay([parked()], { es, db: db as never, pipeline, slot: 's', waitMs: 0 });
    expect(r).toMatchObject({ outcome: 'superseded', detail: 'a newer version reached the index meanwhile' });
  });

  it('is superseded when the index already holds that version or a newer one (Elasticsearch compares, exactly)', async () => {
    const { es } = fakeEs({ version: 100 }, (req) => (BigInt(req.querystring.version!) <= 100n ? conflict() : {}));
    const [r] = await replay([parked({ commitLsn: '100' })], { es, pipeline, slot: 's', waitMs: 0 });
    expect(r).toMatchObject({ outcome: 'superseded', detail: 'the index holds version 100 or newer (parked: 100)' });
  });

  it('does not recreate a document missing from the index without Postgres to tell whether its row was deleted', async () => {
    const { es, requests } = fakeEs(undefined);
    const [r] = await replay([parked()], { es, pipeline, slot: 's', waitMs: 0 });
    expect([r!.outcome, requests]).toEqual(['skipped', []]);
    expect(r!.detail).toMatch(/DATABASE_URL/);
  });

  it('replays a parked delete as a versioned delete, and reports a document Elasticsearch still refuses as failed', async () => {
    const del = fakeEs({ version: 5 });
    await replay([parked({ payload: 'null' })], { es: del.es, pipeline, slot: 's', waitMs: 0 });
    expect(del.requests).toEqual([{ method: 'DELETE', path: '/books/_doc/7', querystring: { version: '18446744073709551000', version_type: 'external' } }]);
    const refused = fakeEs({ version: 5 }, () => {
      throw Object.assign(new Error('bad'), { meta: { statusCode: 400, body: { error: { type: 'document_parsing_exception', reason: 'failed to parse field [year]' } } } });
    });
    const [r] = await replay([parked()], { es: refused.es, pipeline, slot: 's', waitMs: 0 });
    expect(r).toMatchObject({ outcome: 'failed', detail: 'document_parsing_exception: failed to parse field [year]' });
  });

  it('leaves an ingest dead letter to be re-read, which needs Postgres', async () => {
    const { es } = fakeEs(undefined);
    const [r] = await replay([parked({ stage: 'ingest', index: undefined, key: { id: 7 }, partition: -1, payload: '{}', errorType: 'event_too_large' })], { es, pipeline, slot: 's', waitMs: 0 });
    expect(r).toMatchObject({ how: 'reread', outcome: 'skipped', detail: 'set DATABASE_URL: the row is re-read from Postgres' });
  });
});
