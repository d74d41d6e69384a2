import { loadApiConfig, loadIndexerConfig, loadIngestConfig } from './index';

const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/db', KAFKA_BROKERS: '127.0.0.1:9092', ELASTICSEARCH_URL: 'http://127.0.0.1:9200' };

describe('service config', () => {
  it('applies defaults and freezes', () => {
    const c = loadIngestConfig(env);
    expect(c.slotName).toBe('search_pipeline');
    expect(c.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    expect(Object.isFrozen(c)).toBe(true);
  });
  it('names a missing variable and where to get it', () => {
    expect(() => loadIngestConfig({ KAFKA_BROKERS: 'a:1' })).toThrow(/DATABASE_URL is not set.*stack\.env/);
  });
  it('names a malformed variable and what it expects', () => {
    expect(() => loadIndexerConfig({ ...env, INDEXER_BATCH_MAX_DOCS: 'lots' })).toThrow(/INDEXER_BATCH_MAX_DOCS="lots" is not an integer/);
    expect(() => loadIngestConfig({ ...env, KAFKA_BROKERS: 'nohost' })).toThrow(/KAFKA_BROKERS has "nohost"; expected a comma-separated list of host:port/);
    expect(() => loadApiConfig({ ...env, ELASTICSEARCH_URL: 'ftp://x' })).toThrow(/ELASTICSEARCH_URL.*expected http: or https:/);
    expect(() => loadIngestConfig({ ...env, SLOT_NAME: 'Bad-Name' })).toThrow(/SLOT_NAME="Bad-Name" is not a valid name/);
  });
  it('gives the indexer a 10 s session by default, not below the broker minimum of 6 s', () => {
    expect(loadIndexerConfig(env).sessionTimeoutMs).toBe(10_000);
    expect(() => loadIndexerConfig({ ...env, INDEXER_SESSION_TIMEOUT_MS: '3000' })).toThrow(/INDEXER_SESSION_TIMEOUT_MS=3000 is out of range; expected 6000\.\.300000/);
  });
  it('leaves topic replication to the cluster unless set, and refuses min.insync.replicas above the replication factor', () => {
    expect(loadIngestConfig(env).topicReplication).toEqual({ replicationFactor: undefined, minInsyncReplicas: undefined });
    expect(loadIndexerConfig({ ...env, KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' }).topicReplication).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(loadIngestConfig({ ...env, KAFKA_REPLICATION_FACTOR: '1' }).topicReplication).toEqual({ replicationFactor: 1, minInsyncReplicas: undefined });
    expect(() => loadIngestConfig({ ...env, KAFKA_REPLICATION_FACTOR: '2', KAFKA_MIN_INSYNC_REPLICAS: '3' })).toThrow(/KAFKA_MIN_INSYNC_REPLICAS=3 is above KAFKA_REPLICATION_FACTOR=2/);
    expect(() => loadIndexerConfig({ ...env, KAFKA_REPLICATION_FACTOR: '0' })).toThrow(/KAFKA_REPLICATION_FACTOR=0 is out of range; expected 1\.\./);
    expect(() => loadIndexerConfig({ ...env, KAFKA_MIN_INSYNC_REPLICAS: 'two' })).toThrow(/KAFKA_MIN_INSYNC_REPLICAS="two" is not an integer/);
  });
  it('gives ingest (reconciliation) every Elasticsearch node, as the indexer and the API', () => {
    const nodes = 'http://127.0.0.1:9201,http://127.0.0.1:9202';
    expect(loadIngestConfig({ ...env, ELASTICSEARCH_URL: nodes })).toMatchObject({ elasticsearchUrl: nodes, elasticsearch: { nodes: ['http://127.0.0.1:9201', 'http://127.0.0.1:9202'] } });
  });
  it('keeps reconciliation off by default, and asks for Elasticsearch when it is on', () => {
    expect(loadIngestConfig(env)).toMatchObject({ reconcileIntervalMs: 0, reconcileRepair: false, reconcileSample: 0, reconcileBucketRows: 1000, elasticsearchUrl: 'http://127.0.0.1:9200' });
    const { ELASTICSEARCH_URL: _, ...noEs } = env;
    expect(loadIngestConfig(noEs).elasticsearchUrl).toBeUndefined();
    expect(() => loadIngestConfig({ ...noEs, INGEST_RECONCILE_INTERVAL_MS: '60000' })).toThrow(/INGEST_RECONCILE_INTERVAL_MS is set.*set ELASTICSEARCH_URL too/);
  });
  it('takes the API port from API_URL', () => {
    expect(loadApiConfig({ ...env, API_URL: 'http://127.0.0.1:41234' }).port).toBe(41234);
  });
});
