import { PartitionWriter } from './partition-writer';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};
const tick = () => new Promise((r) => setImmediate(r));

describe('PartitionWriter', () => {
  it('starts a partition\'s next batch only once the previous one is done, other partitions meanwhile', async () => {
    const w = new PartitionWriter();
    const log: string[] = [];
    const a1 = deferred();
    const b1 = deferred();
    w.start('t', 0, async () => { log.push('a1 start'); await a1.promise; log.push('a1 done'); }, () => undefined);
    w.start('t', 0, async () => { log.push('a2 start'); }, () => undefined);
    w.start('t', 1, async () => { log.push('b1 start'); await b1.promise; }, () => undefined);
    await tick();
    expect(log).toEqual(['a1 start', 'b1 start']);
    a1.resolve();
    await tick();
    expect(log).toEqual(['a1 start', 'b1 start', 'a1 done', 'a2 start']);
    expect(await w.previous('t', 0)).toBe(true);
    expect(w.busy).toBe(true); // partition 1 still writing
    b1.resolve();
    await w.drain();
    expect(w.busy).toBe(false);
  });

  it('after a failure skips what was queued behind it, reports it once, and counts failures until a success', async () => {
    const w = new PartitionWriter();
    const failures: unknown[] = [];
    const ran: string[] = [];
    const first = deferred();
    w.start('t', 0, () => first.promise, (e) => failures.push(e));
    w.start('t', 0, async () => void ran.push('queued'), (e) => failures.push(e));
    const previous = w.previous('t', 0);
    first.reject(new Error('es down'));
    expect(await previous).toBe(false);
    expect(ran).toEqual([]);
    expect(failures).toEqual([new Error('es down')]);
    expect(w.failuresOf('t', 0)).toBe(1);
    // The partition, read again from the failed batch, goes on.
    expect(await w.previous('t', 0)).toBe(true);
    w.start('t', 0, async () => void ran.push('again'), (e) => failures.push(e));
    await w.drain();
    expect(ran).toEqual(['again']);
    expect(w.failuresOf('t', 0)).toBe(0);
  });

  it('drain waits for batches started while it waits', async () => {
    const w = new PartitionWriter();
    const done: string[] = [];
    const gate = deferred();
    w.start('t', 0, async () => {
      await gate.promise;
      w.start('t', 1, async () => void done.push('late'), () => undefined);
      done.push('first');
    }, () => undefined);
    const drained = w.drain().then(() => done.push('drained'));
    gate.resolve();
    await drained;
    expect(done).toEqual(['first', 'late', 'drained']);
  });
});
