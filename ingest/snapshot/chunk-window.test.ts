import type { ChangeEvent } from '../../core/change-event';
import type { RelationInfo } from '../transform/to-change-events';
import { ChunkWindows } from './chunk-window';

const rel: RelationInfo = { schema: 'public', name: 'items', keyColumns: ['id'], columns: [{ name: 'id', typeOid: 20 }, { name: 'v', typeOid: 25 }] };
const tx = (commitLsn: number) => ({ xid: commitLsn, commitLsn: String(commitLsn), ts: 'now' });
const change = (op: 'c' | 'u' | 'd' | 't', id: string | undefined, table = 'items'): ChangeEvent => ({ v: 1, op, source: { schema: 'public', table }, key: id === undefined ? {} : { id }, ...(op === 'c' || op === 'u' ? { after: { id } } : {}), lsn: '1', commitLsn: '1', txId: 1, ts: 'now' });
const rows = [{ id: '1', v: 'a' }, { id: '2', v: 'b' }, { id: '3', v: null }];

describe('snapshot chunk windows (DBLog)', () => {
  it('publishes the chunk at the high watermark minus keys changed between the watermarks, versioned at the high watermark, done once Kafka acked it', async () => {
    const w = new ChunkWindows('s');
    const chunk = { id: 'c1', relation: rel, rows: undefined as undefined | typeof rows };
    const acked = w.expect(chunk);
    w.observe([change('u', '1')]);
    w.onWatermark({ slot: 's', chunk: 'c1', mark: 'low' }, 100n, tx(101));
    w.observe([change('u', '2'), change('u', '3', 'other')]);
    chunk.rows = rows;
    const events = w.onWatermark({ slot: 's', chunk: 'c1', mark: 'high' }, 200n, tx(201));
    expect(events.map((e) => [e.op, e.key.id, e.commitLsn, e.lsn])).toEqual([['r', '1', '201', '200'], ['r', '3', '201', '200']]);
    expect(events[1]!.after).toEqual({ id: '3', v: null });
    let settled = false;
    void acked.then(() => (settled = true));
    w.confirmed(201n); // the commit end LSN of an earlier transaction cannot be above the high's commit LSN
    await Promise.resolve();
    expect(settled).toBe(false);
    w.confirmed(260n);
    await expect(acked).resolves.toEqual({ emitted: 2, skipped: 1 });
  });

  it('publishes keys read without a row as deletes at the high watermark, except keys changed in the window', async () => {
    const w = new ChunkWindows('s');
    const chunk: { id: string; relation: RelationInfo; rows?: typeof rows; absent?: Array<{ id: string }> } = { id: 'c1', relation: rel };
    const acked = w.expect(chunk);
    w.onWatermark({ slot: 's', chunk: 'c1', mark: 'low' }, 100n, tx(101));
    w.observe([change('c', '8')]); // inserted in the window: the stream has it, no delete may follow
    chunk.rows = [rows[0]!];
    chunk.absent = [{ id: '8' }, { id: '9' }];
    const events = w.onWatermark({ slot: 's', chunk: 'c1', mark: 'high' }, 200n, tx(201));
    expect(events.map((e) => [e.op, e.key.id, e.commitLsn])).toEqual([['r', '1', '201'], ['d', '9', '201']]);
    w.confirmed(300n);
    await expect(acked).resolves.toEqual({ emitted: 2, skipped: 1 });
  });

  it('drops the whole chunk when the table was truncated in the window', async () => {
    const w = new ChunkWindows('s');
    const chunk = { id: 'c1', relation: rel, rows };
    const acked = w.expect(chunk);
    w.onWatermark({ slot: 's', chunk: 'c1', mark: 'low' }, 100n, tx(101));
    w.observe([change('t', undefined)]);
    expect(w.onWatermark({ slot: 's', chunk: 'c1', mark: 'high' }, 200n, tx(201))).toEqual([]);
    w.confirmed(300n);
    await expect(acked).resolves.toEqual({ emitted: 0, skipped: 3 });
  });

  it("ignores another slot's watermarks, an earlier run's chunks and a high without its low", async () => {
    const w = new ChunkWindows('s');
    const chunk = { id: 'c2', relation: rel, rows };
    const acked = w.expect(chunk);
    expect(w.onWatermark({ slot: 'other', chunk: 'c2', mark: 'low' }, 1n, tx(2))).toEqual([]);
    expect(w.onWatermark({ slot: 's', chunk: 'c1', mark: 'high' }, 1n, tx(2))).toEqual([]);
    expect(w.onWatermark({ slot: 's', chunk: 'c2', mark: 'high' }, 1n, tx(2))).toEqual([]);
    w.abort(new Error('closing'));
    await expect(acked).rejects.toThrow('closing');
    expect(() => w.expect(chunk)).not.toThrow(); // aborted: a new chunk may start
  });
});
