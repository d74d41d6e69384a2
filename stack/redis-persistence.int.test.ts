import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { kernelFreePort } from './ports';
import { redisServerArgs } from './redis';

/**
 * The stack's Redis keeps its data across a restart, also an unclean one (SIGKILL): it holds the
 * API keys. A private redis-server on a free port with the stack's own command line, never the
 * shared one.
 */
describe('the stack Redis persists', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  const start = async (port: number): Promise<Redis> => {
    child = spawn('/usr/bin/redis-server', redisServerArgs(port, dir), { cwd: dir, stdio: 'ignore' });
    // Reconnects until the server listens; commands wait meanwhile, and PING answers PONG once the AOF is loaded.
    const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 50, maxRetriesPerRequest: null });
    for (let i = 0; (await redis.ping().catch(() => 'LOADING')) !== 'PONG'; i++) {
      if (i > 100) throw new Error(`redis-server on ${port} did not answer`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return redis;
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-aof-'));
  });
  afterAll(async () => {
    await kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a key written just before a SIGKILL', async () => {
    const port = await kernelFreePort();
    const first = await start(port);
    await first.set('search-pipeline:test:key', 'hash-of-an-api-key');
    first.disconnect();
    await kill();
    const second = await start(port);
    try {
      expect(await second.get('search-pipeline:test:key')).toBe('hash-of-an-api-key');
    } finally {
      second.disconnect();
    }
  });
});
