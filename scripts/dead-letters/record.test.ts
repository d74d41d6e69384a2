import { matches, parseDeadLetter, parseTime } from './record';

const msg = (value: object, partition = 0, offset = '3', timestamp = String(Date.parse('2026-12-01T10:00:00Z'))) => ({ partition, offset, timestamp, key: null, value: JSON.stringify(value) });

describe('dead-letter records', () => {
  it("reads the indexer's record: index, id, version, origin; the table from the topic", () => {
    const d = parseDeadLetter(msg({ stage: 'indexer', index: 'books', id: '7', lsn: '10', commitLsn: '20', topic: 'cdc.public.books', partition: 2, offset: '41', errorType: 'document_parsing_exception', reason: 'failed to parse field [year]', payload: '{"year":"x"}' }, 0, '3'), 'cdc');
    expect(d).toEqual({ ref: '0-3', parkedAt: '2026-12-01T10:00:00.000Z', stage: 'indexer', index: 'books', id: '7', table: 'public.books', topic: 'cdc.public.books', partition: 2, offset: '41', lsn: '10', commitLsn: '20', errorType: 'document_parsing_exception', reason: 'failed to parse field [year]', payload: '{"year":"x"}' });
  });

  it("reads ingest's record, also one written before it carried table and key (they are in the payload)", () => {
    const old = parseDeadLetter(msg({ id: '7', lsn: '10', commitLsn: '20', topic: 'cdc.public.books', partition: -1, offset: '', errorType: 'event_too_large', reason: 'too big', payload: JSON.stringify({ op: 'u', source: { schema: 'public', table: 'books' }, key: { id: 7 } }) }), 'cdc');
    expect(old).toMatchObject({ stage: 'ingest', table: 'public.books', key: { id: 7 }, id: '7', partition: -1 });
    expect(parseDeadLetter({ ...msg({}), value: 'not json' }, 'cdc')).toMatchObject({ errorType: 'unreadable_dead_letter', payload: 'not json' });
  });

  it('filters by index (an ingest record by the tables the index reads), reason, time and id', () => {
    const indexer = parseDeadLetter(msg({ index: 'books', id: '7', topic: 'cdc.public.books', partition: 1, offset: '1', errorType: 'document_parsing_exception', reason: 'failed to parse field [year]', payload: '' }), 'cdc');
    const ingest = parseDeadLetter(msg({ stage: 'ingest', table: 'public.authors', key: { id: 1 }, id: '1', topic: 'cdc.public.authors', partition: -1, errorType: 'event_too_large', reason: 'big', payload: '' }), 'cdc');
    const tablesOf = (i: string) => (i === 'books' ? ['public.books', 'public.authors'] : []);
    expect([indexer, ingest].filter((d) => matches(d, { index: 'books' }, tablesOf))).toHaveLength(2);
    expect([indexer, ingest].filter((d) => matches(d, { index: 'other' }, tablesOf))).toHaveLength(0);
    expect(matches(indexer, { reason: 'document_parsing_exception' }, tablesOf)).toBe(true);
    expect(matches(indexer, { reason: 'YEAR' }, tablesOf)).toBe(true);
    expect(matches(ingest, { reason: 'year' }, tablesOf)).toBe(false);
    expect(matches(indexer, { since: new Date('2026-12-01T09:59:00Z'), until: new Date('2026-12-01T10:01:00Z') }, tablesOf)).toBe(true);
    expect(matches(indexer, { since: new Date('2026-12-01T10:01:00Z') }, tablesOf)).toBe(false);
    expect(matches(indexer, { id: '8' }, tablesOf)).toBe(false);
  });

  it('takes ISO times and durations back from now, and names a bad one', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(parseTime('15m', now).toISOString()).toBe('2026-12-01T11:45:00.000Z');
    expect(parseTime('2d', now).toISOString()).toBe('2026-11-29T12:00:00.000Z');
    expect(parseTime('2026-12-01T10:00:00Z').toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(() => parseTime('yesterday')).toThrow(/not a time: use an ISO time/);
  });
});
