import request from 'supertest';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import { FakeBackend, testPipeline } from '../testing/fake-backend';
import { createDrain } from './drain';

describe('graceful drain', () => {
  const drain = createDrain();
  const http = request(createApp({ drain, pipeline: testPipeline, search: new FakeBackend(), metrics: createApiMetrics(), log: silentLogger, cursorSecret: 'x'.repeat(32) }).callback());

  it('turns /readyz false while requests are still served, and closes connections after each answer', async () => {
    expect((await http.get('/readyz')).status).toBe(200);
    expect((await http.get('/v1/indexes/books/search?q=x').set('Connection', 'keep-alive')).headers['connection']).toBe('keep-alive');
    drain.start();
    const ready = await http.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error).toMatchObject({ code: 'NOT_READY', details: { failed: ['draining'] } });
    const search = await http.get('/v1/indexes/books/search?q=x').set('Connection', 'keep-alive');
    expect(search.status).toBe(200);
    expect(search.headers['connection']).toBe('close');
  });
});
