import { createElasticsearchClient, replicationSettings } from './elasticsearch';

describe('the Elasticsearch client from the config', () => {
  it('knows every node and sends the API key, or the basic credentials, on each request', async () => {
    const client = createElasticsearchClient({ nodes: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], auth: { apiKey: 'aWQ6a2V5' } });
    try {
      const pool = client.connectionPool as unknown as { connections: Array<{ url: URL; headers: Record<string, string> }> };
      expect(pool.connections.map((c) => c.url.port).sort()).toEqual(['1', '2']);
      expect(pool.connections[0]!.headers.authorization).toBe('ApiKey aWQ6a2V5');
    } finally {
      await client.close();
    }
    const basic = createElasticsearchClient({ nodes: ['http://127.0.0.1:1'], auth: { username: 'u', password: 'p' } });
    try {
      const pool = basic.connectionPool as unknown as { connections: Array<{ headers: Record<string, string> }> };
      expect(pool.connections[0]!.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    } finally {
      await basic.close();
    }
  });
  it('turns shards and replicas into index settings: a fixed replica count, or 0-1 following the cluster', () => {
    expect(replicationSettings({ shards: 2, replicas: 1 })).toEqual({ number_of_shards: 2, number_of_replicas: 1, auto_expand_replicas: 'false' });
    expect(replicationSettings({ shards: 1 })).toEqual({ number_of_shards: 1, auto_expand_replicas: '0-1' });
  });
});
