import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureAptPackage } from './apt';
import { StackError } from './errors';
import { logFile, replaceSymlink } from './paths';
import { HOST } from './ports';
import { asUser, readPid, runCommand } from './process';
import { LaunchError, port, type PreparedService, type ServiceContext, type ServiceDriver } from './service';
import { prepareServiceDir } from './service-dir';
import { pidListensOn } from './sockets';

const PG_BIN = '/usr/lib/postgresql/15/bin';
// A unix socket path is limited to 107 bytes: `<dir>/sock/.s.PGSQL.65535` must fit.
const MAX_DIR_FOR_SOCKET = 107 - '/sock/.s.PGSQL.65535'.length;

export const postgresDriver: ServiceDriver = {
  name: 'postgres',
  portKeys: ['port'],
  stopSignal: 'SIGINT',
  serverPidFile: (dir) => path.join(dir, 'data', 'postmaster.pid'),
  env: (ports) => ({ DATABASE_URL: `postgres://postgres@${HOST}:${port(ports)}/postgres` }),
  prepare,
};

async function prepare(ctx: ServiceContext): Promise<PreparedService> {
  await ensureAptPackage('postgresql-15', `${PG_BIN}/pg_ctl`, { log: ctx.log, service: 'postgres', isRoot: ctx.config.isRoot });
  // Postgres refuses to run as root; the Debian package brings the `postgres` user.
  const user = ctx.config.isRoot ? 'postgres' : undefined;
  const dir = await prepareServiceDir(ctx.paths, 'postgres', user, MAX_DIR_FOR_SOCKET);
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  const serverLog = path.join(dir, 'postgres.log');
  const link = logFile(ctx.paths, 'postgres');
  for (const d of [data, sock]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  if (user) await runCommand('chown', [`${user}:`, data, sock]);
  replaceSymlink(serverLog, link);

  if (!fs.existsSync(path.join(data, 'PG_VERSION'))) {
    ctx.log('postgres: creating the cluster (initdb)');
    const [cmd, args] = asUser(user, `${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    const r = await runCommand(cmd, args, { cwd: dir });
    if (r.code !== 0) {
      fs.writeFileSync(serverLog, r.output, { flag: 'a' });
      // A half-made data folder would make every later run skip initdb and fail to start.
      fs.rmSync(data, { recursive: true, force: true });
      throw new StackError({
        code: 'START_FAILED',
        service: 'postgres',
        what: `initdb failed (exit ${r.code}: ${lastLine(r.output)})`,
        logPath: link,
        hint: 'Fix the cause shown in the log, then run `up` again',
      });
    }
  }

  return {
    async launch(ports) {
      const options = [
        `-p ${port(ports)}`,
        `-k ${sock}`,
        '-c listen_addresses=127.0.0.1',
        '-c wal_level=logical',
        // Room for the test suite's parallel workers, each of which may hold a slot or two.
        '-c max_replication_slots=64',
        '-c max_wal_senders=64',
      ].join(' ');
      const [cmd, args] = asUser(user, `${PG_BIN}/pg_ctl`, ['-D', data, '-l', serverLog, '-w', '-t', '60', '-o', options, 'start']);
      // pg_ctl -w returns once the server accepts connections, or exits 1 at once on a taken port.
      const r = await runCommand(cmd, args, { cwd: dir });
      const pid = readPid(path.join(data, 'postmaster.pid'));
      if (r.code !== 0 || pid === undefined) throw new LaunchError(`pg_ctl start failed (exit ${r.code}: ${lastLine(r.output)})`, r.output);
      return { pid };
    },
    isReady: async (ports, pid) => pidListensOn(pid, port(ports)),
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}
