import type { ChangeEvent } from '../core/change-event';
import { silentLogger } from '../core/logger';
import { CommitBatcher, type EventPublisher } from './commit-batcher';

const ev = (n: number): ChangeEvent => ({ v: 1, op: 'c', source: { schema: 'public', table: 't' }, key: { id: n }, after: { id: n }, lsn: String(n), commitLsn: String(n), txId: 1, ts: 'now' });

class FakePublisher implements EventPublisher {
  sent: number[][] = [];
  failNext = false;
  gate: Promise<void> = Promise.resolve();
  attempts = 0;
  async publish(events: readonly ChangeEvent[]): Promise<void> {
    this.attempts++;
    await this.gate;
    if (this.failNext) throw new Error('broker down');
    this.sent.push(events.map((e) => e.key.id as number));
  }
}

describe('CommitBatcher', () => {
  it('confirms a commit only after its events were acknowledged', async () => {
    const pub = new FakePublisher();
    const confirmed: bigint[] = [];
    let release!: () => void;
    pub.gate = new Promise((r) => (release = r));
    const b = new CommitBatcher(pub, async (l) => void confirmed.push(l), { maxEvents: 100, flushIntervalMs: 5 }, silentLogger);
    await b.add([ev(1), ev(2)]);
    await b.commit(200n);
    await new Promise((r) => setTimeout(r, 20));
    expect(confirmed).toEqual([]); // Kafka has not answered yet
    release();
    await b.flush();
    expect(pub.sent).toEqual([[1, 2]]);
    expect(confirmed).toEqual([200n]);
  });

  it('sends a large transaction in bounded batches, holds at most two while Kafka is slow, and confirms only at its commit', async () => {
    const pub = new FakePublisher();
    const confirmed: bigint[] = [];
    let release!: () => void;
    pub.gate = new Promise((r) => (release = r));
    const b = new CommitBatcher(pub, async (l) => void confirmed.push(l), { maxEvents: 3, flushIntervalMs: 1000 }, silentLogger);
    let added = 0;
    const stream = (async () => {
      for (let i = 0; i < 10; i++) {
        await b.add([ev(i)]);
        added++;
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    // One batch in flight, one queued: the sixth add waits for Kafka, pausing the stream.
    expect(added).toBe(5);
    expect(b.pendingEvents()).toBe(6);
    release();
    await stream;
    expect(pub.sent.slice(0, 3)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    expect(confirmed).toEqual([]);
    await b.commit(900n);
    await b.close();
    expect(pub.sent.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(confirmed).toEqual([900n]);
    expect(b.pendingEvents()).toBe(0);
  });

  it('never confirms past a failed publish and reports it', async () => {
    const pub = new FakePublisher();
    const confirmed: bigint[] = [];
    const fatal: unknown[] = [];
    const b = new CommitBatcher(pub, async (l) => void confirmed.push(l), { maxEvents: 100, flushIntervalMs: 1000, onFatal: (e) => fatal.push(e) }, silentLogger);
    await b.add([ev(1)]);
    await b.commit(100n);
    await b.flush();
    pub.failNext = true;
    await b.add([ev(2)]);
    await b.commit(200n);
    await expect(b.flush()).rejects.toThrow('broker down');
    pub.failNext = false;
    await expect(b.add([ev(3)])).rejects.toThrow('broker down');
    expect(confirmed).toEqual([100n]);
    expect(fatal).toHaveLength(1);
  });

  it('sends a batch Kafka could not take again until it is acknowledged, in order, confirming only then', async () => {
    const pub = new FakePublisher();
    const confirmed: bigint[] = [];
    const retried: unknown[] = [];
    const fatal: unknown[] = [];
    const b = new CommitBatcher(pub, async (l) => void confirmed.push(l), { maxEvents: 100, flushIntervalMs: 1000, retryWhile: () => true, onRetry: (e) => retried.push(e), onFatal: (e) => fatal.push(e) }, silentLogger);
    pub.failNext = true;
    await b.add([ev(1), ev(2)]);
    await b.commit(100n);
    const flushed = b.flush();
    await new Promise((r) => setTimeout(r, 600)); // a few attempts fail meanwhile
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(confirmed).toEqual([]);
    await b.add([ev(3)]);
    await b.commit(200n);
    const later = b.flush();
    pub.failNext = false;
    await flushed;
    await later;
    expect(pub.sent).toEqual([[1, 2], [3]]);
    expect(confirmed).toEqual([100n, 200n]);
    expect(fatal).toEqual([]);
  });

  it('gives a batch waiting for Kafka up on close, without confirming it', async () => {
    const pub = new FakePublisher();
    const confirmed: bigint[] = [];
    const fatal: unknown[] = [];
    const b = new CommitBatcher(pub, async (l) => void confirmed.push(l), { maxEvents: 100, flushIntervalMs: 1000, retryWhile: () => true, onFatal: (e) => fatal.push(e) }, silentLogger);
    pub.failNext = true;
    await b.add([ev(1)]);
    await b.commit(100n);
    const flushed = b.flush();
    await new Promise((r) => setTimeout(r, 100));
    const attempts = pub.attempts;
    await expect(b.close()).rejects.toThrow('broker down');
    await expect(flushed).rejects.toThrow('broker down');
    expect(pub.attempts).toBe(attempts); // not one more try on the way out
    expect(confirmed).toEqual([]);
    expect(fatal).toEqual([]); // a shutdown, not a failure
  });

  it('stops on a failure that is not worth waiting out', async () => {
    const pub = new FakePublisher();
    const fatal: unknown[] = [];
    const b = new CommitBatcher(pub, async () => undefined, { maxEvents: 100, flushIntervalMs: 1000, retryWhile: () => false, onFatal: (e) => fatal.push(e) }, silentLogger);
    pub.failNext = true;
    await b.add([ev(1)]);
    await expect(b.flush()).rejects.toThrow('broker down');
    expect(fatal).toHaveLength(1);
  });
});
