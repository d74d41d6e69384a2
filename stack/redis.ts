import { ensureAptPackage } from './apt';
import { localServiceDir, logFile } from './paths';
import { HOST } from './ports';
import { redisPing } from './probes';
import { spawnDetached } from './process';
import { port, type PreparedService, type ServiceContext, type ServiceDriver } from './service';
import { pidListensOn } from './sockets';
import * as fs from 'node:fs';

const REDIS_SERVER = '/usr/bin/redis-server';

/**
 * The redis-server command line of the stack. Redis holds the API keys (only their hashes: a
 * lost key cannot be recovered, only re-issued), so it persists with the append-only file,
 * written before each reply and fsynced every second: a restart or a crash keeps every key
 * (stack/redis-persistence.int.test.ts). RDB snapshots stay off; the AOF alone restores.
 * Foreground, not --daemonize yes: a daemonizing redis exits 0 even when its port is taken,
 * and the redis already on that port would then answer our health check.
 */
export function redisServerArgs(listenPort: number, dir: string): string[] {
  return ['--port', String(listenPort), '--bind', HOST, '--daemonize', 'no', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir, '--logfile', ''];
}

export const redisDriver: ServiceDriver = {
  name: 'redis',
  portKeys: ['port'],
  stopSignal: 'SIGTERM',
  env: (ports) => ({ REDIS_URL: `redis://${HOST}:${port(ports)}` }),
  prepare,
};

async function prepare(ctx: ServiceContext): Promise<PreparedService> {
  await ensureAptPackage('redis-server', REDIS_SERVER, { log: ctx.log, service: 'redis', isRoot: ctx.config.isRoot });
  const dir = localServiceDir(ctx.paths, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  const log = logFile(ctx.paths, 'redis');
  return {
    async launch(ports) {
      const child = await spawnDetached(REDIS_SERVER, redisServerArgs(port(ports), dir), log, { cwd: dir });
      return { pid: child.pid };
    },
    isReady: async (ports, pid) => pidListensOn(pid, port(ports)) && (await redisPing(port(ports))),
  };
}
