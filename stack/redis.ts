import { ensureAptPackage } from './apt';
import { localServiceDir, logFile } from './paths';
import { HOST } from './ports';
import { redisPing } from './probes';
import { spawnDetached } from './process';
import { port, type PreparedService, type ServiceContext, type ServiceDriver } from './service';
import { pidListensOn } from './sockets';
import * as fs from 'node:fs';

const REDIS_SERVER = '/usr/bin/redis-server';

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
      // Foreground, not --daemonize yes: a daemonizing redis exits 0 even when its port is taken,
      // and the redis already on that port would then answer our health check.
      const args = ['--port', String(port(ports)), '--bind', HOST, '--daemonize', 'no', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', ''];
      const child = await spawnDetached(REDIS_SERVER, args, log, { cwd: dir });
      return { pid: child.pid };
    },
    isReady: async (ports, pid) => pidListensOn(pid, port(ports)) && (await redisPing(port(ports))),
  };
}
