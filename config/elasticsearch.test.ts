import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadElasticsearchConfig } from './elasticsearch';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('Elasticsearch config', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-config-'));
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, PEM);
  const notPem = path.join(dir, 'key.txt');
  fs.writeFileSync(notPem, 'hello');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('takes one or several node URLs, no credentials, and 0-1 replicas for its own indexes by default', () => {
    expect(loadElasticsearchConfig({ ELASTICSEARCH_URL: 'http://127.0.0.1:9200' })).toEqual({ nodes: ['http://127.0.0.1:9200'], internalIndex: { shards: 1, replicas: undefined } });
    expect(loadElasticsearchConfig({ ELASTICSEARCH_URL: 'https://es1:9200, https://es2:9200,https://es3:9200' }).nodes).toEqual(['https://es1:9200', 'https://es2:9200', 'https://es3:9200']);
  });
  it('reads an API key or basic credentials, a CA bundle, and the state index shards and replicas', () => {
    const c = loadElasticsearchConfig({ ELASTICSEARCH_URL: 'https://es1:9200', ELASTICSEARCH_API_KEY: 'aWQ6a2V5', ELASTICSEARCH_CA_FILE: ca, ELASTICSEARCH_STATE_INDEX_REPLICAS: '2', ELASTICSEARCH_STATE_INDEX_SHARDS: '1' });
    expect(c).toEqual({ nodes: ['https://es1:9200'], auth: { apiKey: 'aWQ6a2V5' }, ca: PEM, internalIndex: { shards: 1, replicas: 2 } });
    expect(loadElasticsearchConfig({ ELASTICSEARCH_URL: 'https://es1:9200', ELASTICSEARCH_USERNAME: 'pipeline', ELASTICSEARCH_PASSWORD: 's3cret' }).auth).toEqual({ username: 'pipeline', password: 's3cret' });
  });
  it('names the variable and the fix for each bad setting', () => {
    const base = { ELASTICSEARCH_URL: 'https://es1:9200' };
    expect(() => loadElasticsearchConfig({})).toThrow(/ELASTICSEARCH_URL is not set/);
    expect(() => loadElasticsearchConfig({ ELASTICSEARCH_URL: 'http://a:9200,nope' })).toThrow(/ELASTICSEARCH_URL has "nope", which is not a URL; expected one or more comma-separated http\(s\) URLs/);
    expect(() => loadElasticsearchConfig({ ELASTICSEARCH_URL: 'ftp://a:21' })).toThrow(/ELASTICSEARCH_URL has "ftp:\/\/a:21", which uses ftp:; expected http: or https:/);
    expect(() => loadElasticsearchConfig({ ...base, ELASTICSEARCH_API_KEY: 'k', ELASTICSEARCH_USERNAME: 'u', ELASTICSEARCH_PASSWORD: 'p' })).toThrow(/ELASTICSEARCH_API_KEY and ELASTICSEARCH_USERNAME\/ELASTICSEARCH_PASSWORD are both set/);
    expect(() => loadElasticsearchConfig({ ...base, ELASTICSEARCH_USERNAME: 'u' })).toThrow(/ELASTICSEARCH_PASSWORD is not set; basic auth needs both/);
    expect(() => loadElasticsearchConfig({ ...base, ELASTICSEARCH_PASSWORD: 'p' })).toThrow(/ELASTICSEARCH_USERNAME is not set/);
    expect(() => loadElasticsearchConfig({ ELASTICSEARCH_URL: 'https://u:p@es1:9200', ELASTICSEARCH_API_KEY: 'k' })).toThrow(/ELASTICSEARCH_URL carries credentials/);
    expect(() => loadElasticsearchConfig({ ELASTICSEARCH_URL: 'http://es1:9200', ELASTICSEARCH_CA_FILE: ca })).toThrow(/ELASTICSEARCH_CA_FILE is set but ELASTICSEARCH_URL has no https node/);
    expect(() => loadElasticsearchConfig({ ...base, ELASTICSEARCH_CA_FILE: path.join(dir, 'missing.pem') })).toThrow(/ELASTICSEARCH_CA_FILE=".*missing\.pem" cannot be read \(ENOENT\); expected the path of a PEM file/);
    expect(() => loadElasticsearchConfig({ ...base, ELASTICSEARCH_CA_FILE: notPem })).toThrow(/holds no PEM certificate/);
    expect(() => loadElasticsearchConfig({ ...base, ELASTICSEARCH_STATE_INDEX_REPLICAS: '-1' })).toThrow(/ELASTICSEARCH_STATE_INDEX_REPLICAS=-1 is out of range/);
  });
});
