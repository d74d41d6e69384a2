import type { Client } from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { sleep } from '../../core/retry';
import { formatLsn, parseLsn } from '../../core/lsn';
import { PipelineError } from '../../core/errors';
import { queryOnce } from './pg-query';
import type { Logger } from '../../core/logger';
import type { DecodedChange, RawTuple, RelationInfo } from '../transform/to-change-events';

/** What the change source hands the pipeline, in WAL order. */
export type SourceMessage =
  | { kind: 'begin'; xid: number; commitLsn: bigint; ts: Date }
  | { kind: 'change'; lsn: bigint; change: DecodedChange }
  /** A pg_logical_emit_message (heartbeats, snapshot watermarks); transactional ones sit inside begin/commit. */
  | { kind: 'message'; lsn: bigint; prefix: string; content: string; transactional: boolean }
  | { kind: 'commit'; commitLsn: bigint; commitEndLsn: bigint; ts: Date };

export interface ChangeSource {
  start(onMessage: (m: SourceMessage) => Promise<void>): Promise<void>;
  /** Tells Postgres everything up to `commitEndLsn` is durable downstream. */
  confirm(commitEndLsn: bigint): Promise<void>;
  close(): Promise<void>;
}

/**
 * pgoutput over pg-logical-replication, with its traps handled (docs/architecture.md, "Postgres CDC pitfalls"):
 * - `acknowledge(lsn)` sends lsn + 1, which would skip a transaction whose commit record
 *   starts exactly at the confirmed position after a restart; we pass commitEndLsn − 1.
 * - manual acks need `{ auto: false, timeoutSeconds: 0 }`, otherwise the library confirms
 *   the last *received* position on a timer; then keepalives that ask for a reply must be
 *   answered by us or the server drops us at wal_sender_timeout.
 * - flow control on, so async handlers are awaited and the stream pauses while we publish.
 * - values are kept as text (see pg-values.ts), not run through pg's global type parsers.
 * - while a handler waits (Kafka down: the batcher sends its batch again until acknowledged) the
 *   stream is paused and keepalives go unread, so the server would end the connection at
 *   wal_sender_timeout (1 min by default); the confirmed position is re-sent every few seconds.
 */
export class PgChangeSource implements ChangeSource {
  private service: LogicalReplicationService | undefined;
  private confirmed = 0n;
  private statusTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly slot: string,
    private readonly publication: string,
    private readonly log: Logger,
    private readonly onFatal: (err: unknown) => void,
  ) {}

  /**
   * `session`: a connected replication connection to stream on (the one holding the slot's lease,
   * slot-lease.ts); without it the library opens its own.
   */
  async start(onMessage: (m: SourceMessage) => Promise<void>, session?: Client): Promise<void> {
    const service = new LogicalReplicationService(
      { connectionString: this.connectionString },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    if (session) streamOn(service, session);
    this.service = service;
    // messages: heartbeats and snapshot watermarks travel as logical decoding messages.
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.publication], messages: true });
    const parse = plugin.parse.bind(plugin);
    // Replace the relation's value parsers at parse time, before later tuples are decoded with them.
    plugin.parse = (buffer: Buffer) => {
      const msg = parse(buffer) as { tag: string; columns?: Array<{ parser: (raw: unknown) => unknown }> };
      if (msg.tag === 'relation') for (const c of msg.columns ?? []) c.parser = (raw) => raw;
      return msg as ReturnType<typeof parse>;
    };

    service.on('data', async (lsn: string, msg: Record<string, unknown> & { tag: string }) => {
      const m = toSourceMessage(lsn, msg);
      if (m) await onMessage(m);
    });
    service.on('heartbeat', async (_lsn: string, _ts: number, shouldRespond: boolean) => {
      if (shouldRespond) await this.sendStatus();
    });
    // Well inside wal_sender_timeout; a status that repeats the confirmed position is harmless.
    this.statusTimer = setInterval(() => void this.sendStatus().catch(() => undefined), STATUS_INTERVAL_MS);
    this.statusTimer.unref();
    service.on('error', (err: Error) => this.onFatal(new PipelineError(`replication stream failed: ${err.message}`, { code: 'REPLICATION_FAILED', retriable: true, cause: err })));

    const from = await this.slotPosition();
    if (!from) throw new PipelineError(`replication slot ${this.slot} does not exist`, { code: 'SLOT_MISSING', retriable: false });
    this.confirmed = parseLsn(from);
    this.log.info('streaming from slot', { slot: this.slot, from });
    // Start explicitly at the confirmed position: the library would otherwise resume from the last *received* one.
    service.subscribe(plugin, this.slot, from).catch((err: unknown) => this.onFatal(err));
  }

  /**
   * The slot's confirmed position, once no other session streams it. A previous holder's backend
   * frees its lease lock a moment before the slot (Postgres releases locks first as it exits), so
   * a standby that just got the lock may find the slot still active for a few milliseconds.
   */
  private async slotPosition(): Promise<string | null | undefined> {
    const deadline = Date.now() + SLOT_BUSY_WAIT_MS;
    for (;;) {
      const { rows } = await queryOnce<{ confirmed_flush_lsn: string | null; active_pid: number | null }>(
        this.connectionString,
        'SELECT confirmed_flush_lsn, active_pid FROM pg_replication_slots WHERE slot_name = $1',
        [this.slot],
      );
      const pid = rows[0]?.active_pid;
      if (!pid) return rows[0]?.confirmed_flush_lsn;
      if (Date.now() > deadline) {
        throw new PipelineError(`replication slot ${this.slot} is streamed by another session (pid ${pid}) that does not hold ingest's lock: another consumer of this slot, or an ingest older than the lock. Stop it, or give this pipeline its own SLOT_NAME`, { code: 'SLOT_IN_USE', retriable: true, context: { slot: this.slot, pid } });
      }
      await sleep(50);
    }
  }

  async confirm(commitEndLsn: bigint): Promise<void> {
    if (commitEndLsn <= this.confirmed) return;
    this.confirmed = commitEndLsn;
    await this.sendStatus();
  }

  private async sendStatus(): Promise<void> {
    if (!this.service || this.confirmed === 0n) return;
    await this.service.acknowledge(formatLsn(this.confirmed - 1n));
  }

  confirmedLsn(): bigint {
    return this.confirmed;
  }

  async close(): Promise<void> {
    clearInterval(this.statusTimer);
    const s = this.service;
    this.service = undefined;
    await s?.destroy();
  }
}

const STATUS_INTERVAL_MS = 5_000;
/** How long a slot may stay active for another backend after this process got the lease. */
const SLOT_BUSY_WAIT_MS = 10_000;

/**
 * Makes the library stream on a connection we opened (and locked) instead of opening its own:
 * it has no option for that, so its private connect step is replaced on this instance. Its stop()
 * still ends that connection, which releases the lease.
 */
function streamOn(service: LogicalReplicationService, session: Client): void {
  const inner = service as unknown as { client: () => Promise<[Client, unknown]>; _client: Client | null; _connection: unknown };
  inner.client = () => {
    const connection = (session as unknown as { connection: unknown }).connection;
    inner._client = session;
    inner._connection = connection;
    session.on('error', (e: Error) => service.emit('error', e));
    return Promise.resolve([session, connection]);
  };
}

interface RawRelation { schema: string; name: string; keyColumns: string[]; replicaIdentity: RelationInfo['replicaIdentity']; columns: Array<{ name: string; typeOid: number }> }

/**
 * The parser hands every change of a table the same relation object until a new Relation message
 * replaces it (DDL and the like), so its RelationInfo is made once per Relation message, not per
 * row; a replaced relation is a new object and gets a new RelationInfo.
 */
const relations = new WeakMap<RawRelation, RelationInfo>();
function relation(r: RawRelation): RelationInfo {
  let info = relations.get(r);
  if (!info) {
    info = { schema: r.schema, name: r.name, keyColumns: r.keyColumns, replicaIdentity: r.replicaIdentity, columns: r.columns.map((c) => ({ name: c.name, typeOid: c.typeOid })) };
    relations.set(r, info);
  }
  return info;
}

function toSourceMessage(lsn: string, msg: Record<string, unknown> & { tag: string }): SourceMessage | undefined {
  switch (msg.tag) {
    case 'begin':
      return { kind: 'begin', xid: msg.xid as number, commitLsn: parseLsn(msg.commitLsn as string), ts: new Date(Number((msg.commitTime as bigint) / 1000n)) };
    case 'commit':
      return { kind: 'commit', commitLsn: parseLsn(msg.commitLsn as string), commitEndLsn: parseLsn(msg.commitEndLsn as string), ts: new Date(Number((msg.commitTime as bigint) / 1000n)) };
    case 'insert':
      return { kind: 'change', lsn: parseLsn(lsn), change: { tag: 'insert', relation: relation(msg.relation as RawRelation), new: msg.new as RawTuple } };
    case 'update':
      return { kind: 'change', lsn: parseLsn(lsn), change: { tag: 'update', relation: relation(msg.relation as RawRelation), key: msg.key as RawTuple | null, old: msg.old as RawTuple | null, new: msg.new as RawTuple } };
    case 'delete':
      return { kind: 'change', lsn: parseLsn(lsn), change: { tag: 'delete', relation: relation(msg.relation as RawRelation), key: msg.key as RawTuple | null, old: msg.old as RawTuple | null } };
    case 'truncate':
      return { kind: 'change', lsn: parseLsn(lsn), change: { tag: 'truncate', relations: (msg.relations as RawRelation[]).map(relation) } };
    case 'message':
      return { kind: 'message', lsn: parseLsn(lsn), prefix: msg.prefix as string, content: Buffer.from(msg.content as Uint8Array).toString('utf8'), transactional: msg.transactional as boolean };
    default:
      return undefined; // relation, type, origin: nothing to publish
  }
}
