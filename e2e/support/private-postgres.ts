import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kernelFreePort } from '../../stack/ports';
import { asUser, runCommand } from '../../stack/process';

const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  url: string;
  port: number;
  dataDir: string;
  /** Runs one of the cluster's own tools (pg_waldump, …) as the cluster's owner. */
  tool: (name: string, args: readonly string[]) => Promise<{ code: number | null; output: string }>;
  /** Stops the server and removes its folder; safe to call twice. */
  stop: () => Promise<void>;
}

/**
 * A throwaway Postgres 15 cluster in a temp folder, as the stack makes its own (stack/postgres.ts):
 * initdb + pg_ctl as the `postgres` user when we are root, wal_level=logical, 127.0.0.1 on a free port.
 * `walStart` (a WAL file name, 24 hex digits) is given to `pg_resetwal -l` before the first start, so
 * the cluster's WAL begins there: the way to test LSNs no busy test database would reach.
 */
export async function startPrivatePostgres(opts: { walStart?: string } = {}): Promise<PrivatePostgres> {
  const user = process.getuid?.() === 0 ? 'postgres' : undefined;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'private-pg-'));
  const dataDir = path.join(base, 'data');
  const sock = path.join(base, 'sock');
  const log = path.join(base, 'postgres.log');
  fs.mkdirSync(sock);
  if (user) await must(runCommand('chown', ['-R', `${user}:`, base]), 'chown');
  const as = (cmd: string, args: readonly string[]) => {
    const [c, a] = asUser(user, cmd, args);
    return runCommand(c, a, { cwd: base });
  };
  let port = 0;
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) {
      started = false;
      // fast: rolls back open sessions; the cluster is thrown away anyway.
      await as(`${PG_BIN}/pg_ctl`, ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
    }
    fs.rmSync(base, { recursive: true, force: true });
  };
  try {
    await must(as(`${PG_BIN}/initdb`, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']), 'initdb');
    if (opts.walStart) await must(as(`${PG_BIN}/pg_resetwal`, ['-l', opts.walStart, '-D', dataDir]), 'pg_resetwal');
    // A port taken between the probe and the start fails at once: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await kernelFreePort();
      const options = [`-p ${port}`, `-k ${sock}`, '-c listen_addresses=127.0.0.1', '-c wal_level=logical', '-c max_replication_slots=10', '-c max_wal_senders=10', '-c fsync=off'].join(' ');
      const r = await as(`${PG_BIN}/pg_ctl`, ['-D', dataDir, '-l', log, '-w', '-t', '60', '-o', options, 'start']);
      if (r.code === 0) break;
      if (attempt >= 3) throw new Error(`pg_ctl start failed (exit ${r.code}): ${r.output}\n${readTail(log)}`);
    }
    started = true;
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    tool: (name, args) => as(path.join(PG_BIN, name), args),
    stop,
  };
}

async function must(p: Promise<{ code: number | null; output: string }>, what: string): Promise<void> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.output.trim()}`);
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
