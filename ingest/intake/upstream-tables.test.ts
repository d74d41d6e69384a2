import { loadIngestConfig } from '../../config';
import { intakePipeline } from './testing';
import { splitPipeline } from './upstream-tables';

describe('splitPipeline', () => {
  it('leaves the INGEST_HTTP_TABLES tables out of what CDC captures', () => {
    const { captured, upstream } = splitPipeline(intakePipeline(['public.orders', 'public.books', 'sales.refunds']), ['public.orders', 'sales.refunds']);
    expect(captured.indexes.map((i) => `${i.source.schema}.${i.source.table}`)).toEqual(['public.books']);
    expect(upstream).toEqual(['public.orders', 'sales.refunds']);
  });

  it('captures everything when no table is upstream', () => {
    const pipeline = intakePipeline();
    expect(splitPipeline(pipeline, []).captured.indexes).toEqual(pipeline.indexes);
  });

  it('refuses a listed table the pipeline config does not have, naming the ones it has', () => {
    expect(() => splitPipeline(intakePipeline(), ['public.ghost'])).toThrow(/INGEST_HTTP_TABLES names public\.ghost, which the pipeline config \(test-pipeline\.json\) does not have; use tables among: public\.orders, public\.books/);
  });
});

describe('INGEST_HTTP_* settings', () => {
  const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/db', KAFKA_BROKERS: '127.0.0.1:9092' };
  it('default to an intake that is off and takes no table', () => {
    expect(loadIngestConfig(env)).toMatchObject({ httpPort: 0, httpHost: '127.0.0.1', httpMaxBodyBytes: 33_554_432, httpMaxEventBytes: 1_000_000, httpTables: [] });
  });
  it('read a table list and refuse a table without its schema', () => {
    expect(loadIngestConfig({ ...env, INGEST_HTTP_TABLES: ' public.orders , sales.refunds ' }).httpTables).toEqual(['public.orders', 'sales.refunds']);
    expect(() => loadIngestConfig({ ...env, INGEST_HTTP_TABLES: 'orders' })).toThrow(/INGEST_HTTP_TABLES has "orders"; expected a comma-separated list of schema\.table/);
  });
});
