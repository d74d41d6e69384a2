import { buildOpenApi } from '../openapi/spec';
import { testPipeline } from '../testing/fake-backend';

describe('OpenAPI document with API keys', () => {
  const ops = (spec: any) => Object.entries(spec.paths as Record<string, any>).flatMap(([path, item]) => ['get', 'post', 'put'].filter((m) => item[m]).map((m) => ({ path, op: item[m] })));

  it('requires a key on every /v1 operation, documents 401/403/429, and leaves probes open', () => {
    const spec = buildOpenApi(testPipeline, { auth: true }) as any;
    expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['apiKeyHeader', 'bearerAuth']);
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const v1 = ops(spec).filter((o) => o.path.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThanOrEqual(6);
    for (const { op } of v1) {
      expect(op.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
      expect(op.responses['429'].headers['Retry-After'].schema.type).toBe('integer');
    }
    for (const { path, op } of ops(spec).filter((o) => !o.path.startsWith('/v1/'))) {
      expect(op.security).toBeUndefined();
      // /metrics answers 401 for its own token (API_METRICS_TOKEN), not for an API key.
      if (path !== '/metrics') expect(op.responses['401']).toBeUndefined();
    }
  });
  it('says nothing about keys when auth is off', () => {
    const spec = buildOpenApi(testPipeline) as any;
    expect(spec.components.securitySchemes).toBeUndefined();
    expect(ops(spec).every(({ path, op }) => op.security === undefined && (path === '/metrics' || op.responses['401'] === undefined))).toBe(true);
  });
});
