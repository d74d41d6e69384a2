import type { ChangeEvent } from '../core/change-event';
import { silentLogger } from '../core/logger';
import { CommitBatcher, type EventPublisher } from './commit-batcher';
import { ChunkWindows } from './snapshot/chunk-window';
import { HEARTBEAT_PREFIX } from './source/pg-messages';
import { createStreamHandler } from './stream-handler';

class Recorder implements EventPublisher {
  events: ChangeEvent[] = [];
  async publish(events: readonly ChangeEvent[]): Promise<void> {
    this.events.push(...events);
  }
}

describe('stream handler', () => {
  it('turns our heartbeat into one h event per table carrying the commit LSN, ignores other slots, and confirms the commit', async () => {
    const pub = new Recorder();
    const confirmed: Array<[bigint, Date | undefined]> = [];
    const batcher = new CommitBatcher(pub, async (l, ts) => void confirmed.push([l, ts]), { maxEvents: 100, flushIntervalMs: 1000 }, silentLogger);
    const tables = [{ schema: 'public', table: 'a' }, { schema: 'public', table: 'b' }];
    const on = createStreamHandler({ slot: 'mine', tables, batcher, windows: new ChunkWindows('mine') });
    const ts = new Date('2026-11-23T08:00:00Z');
    await on({ kind: 'begin', xid: 7, commitLsn: 500n, ts });
    await on({ kind: 'message', lsn: 480n, prefix: HEARTBEAT_PREFIX, content: 'theirs', transactional: true });
    await on({ kind: 'message', lsn: 481n, prefix: HEARTBEAT_PREFIX, content: 'mine', transactional: false });
    await on({ kind: 'message', lsn: 490n, prefix: HEARTBEAT_PREFIX, content: 'mine', transactional: true });
    await on({ kind: 'commit', commitLsn: 500n, commitEndLsn: 560n, ts });
    await batcher.flush();
    expect(pub.events).toEqual(tables.map((t) => ({ v: 1, op: 'h', source: { schema: 'public', table: t.table }, key: {}, lsn: '490', commitLsn: '500', txId: 7, ts: ts.toISOString() })));
    expect(confirmed).toEqual([[560n, ts]]);
  });
});
