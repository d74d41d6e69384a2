import type { Client } from 'pg';
import { env, eventually, pg, uniqueName } from '../../e2e/support/services';
import { createLogger } from '../../core/logger';
import { readSlot } from './pg-setup';
import { createSlotReporting } from './slot-creation';

/**
 * Against the real Postgres: a transaction holding an xid on another connection keeps
 * pg_create_logical_replication_slot waiting; the log names its pid until it commits.
 */
describe('creating the replication slot while a transaction is open', () => {
  let holder: Client;
  let waiter: Client;
  const slot = uniqueName('slot_wait');

  beforeAll(async () => {
    holder = await pg();
    waiter = await pg();
  });

  afterAll(async () => {
    await holder.query('ROLLBACK').catch(() => undefined);
    await waiter.query('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1', [slot]).catch(() => undefined);
    await holder.end();
    await waiter.end();
  });

  it('says which pid it waits for, again and again, and creates the slot once that transaction commits', async () => {
    await holder.query('BEGIN');
    const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, txid_current()'); // txid_current assigns an xid
    const holderPid = rows[0]!.pid;
    const lines: Array<{ level: string; msg: string; blockers?: Array<{ pid: number }> }> = [];
    const log = createLogger('ingest', 'debug', (line) => lines.push(JSON.parse(line) as (typeof lines)[number]));

    let created = false;
    const creating = createSlotReporting(waiter, slot, { connectionString: env('DATABASE_URL'), log, firstReportMs: 100, reportEveryMs: 200 })
      .then((lsn) => ((created = true), lsn));
    const naming = (): typeof lines => lines.filter((l) => l.level === 'warn' && l.msg.includes(`pid ${holderPid} (idle in transaction`) && l.blockers?.some((b) => b.pid === holderPid));
    await eventually(async () => (naming().length >= 2 ? true : undefined), `two reports naming pid ${holderPid}`, 10_000);
    expect(created).toBe(false);

    await holder.query('COMMIT');
    const lsn = await creating;
    expect(lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(await readSlot(waiter, slot)).toMatchObject({ plugin: 'pgoutput' });
    // Nothing more is said once the slot exists.
    const reports = lines.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(lines.length).toBe(reports);
  });
});
