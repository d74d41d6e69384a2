import request from 'supertest';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import { FakeBackend, testPipeline } from './fake-backend';

/** The app over a FakeBackend, driven through supertest without a port (createApp is built apart from listening, so no socket is needed). */
export function testApp(backend = new FakeBackend(), opts: { maxBodyBytes?: number } = {}) {
  return { backend, http: request(createApp({ pipeline: testPipeline, search: backend, metrics: createApiMetrics(), log: silentLogger, cursorSecret: 'x'.repeat(32), maxBodyBytes: opts.maxBodyBytes ?? 4096 }).callback()) };
}
