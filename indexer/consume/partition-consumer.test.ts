import { PipelineError } from '../../core/errors';
import type { Assignment, FetchedBatch, GroupConsumer } from '../../core/kafka-group-consumer';
import { silentLogger } from '../../core/logger';
import { createPartitionConsumer, type BatchHandler } from './partition-consumer';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};
const tick = () => new Promise((r) => setImmediate(r));
const until = async (what: string, ok: () => boolean, ms = 5_000) => {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
};

/** A group member of recorded calls: the test hands it batches as the client would. */
function fakeGroup() {
  const calls: string[] = [];
  let eachBatch: ((b: FetchedBatch) => Promise<void>) | undefined;
  const crash: Array<(e: unknown, restarting: boolean) => void> = [];
  const joined: Array<(a: Assignment) => void> = [];
  let running = true;
  const group: GroupConsumer = {
    connect: async () => void calls.push('connect'),
    subscribe: async (topics) => void calls.push(`subscribe ${topics.join(',')}`),
    run: async (o) => {
      calls.push(`run ${o.partitionsConcurrently}`);
      eachBatch = o.eachBatch;
    },
    commit: async (t, p, offset) => void calls.push(`commit ${t}[${p}] ${offset}`),
    seek: (t, p, offset) => void calls.push(`seek ${t}[${p}] ${offset}`),
    pause: (topics) => {
      running = false;
      calls.push(`pause ${topics.join(',')}`);
    },
    disconnect: async () => void calls.push('disconnect'),
    onCrash: (l) => void crash.push(l),
    onAssignment: (l) => void joined.push(l),
    isRebalance: (err) => (err as { type?: string }).type === 'REBALANCE_IN_PROGRESS',
  };
  /** Hands over a batch of `offsets` of t[partition]; `heartbeat` decides what the group answers. */
  const deliver = (partition: number, offsets: number[], heartbeat: () => Promise<void> = async () => undefined) => {
    const resolved: string[] = [];
    const done = eachBatch!({
      topic: 't', partition,
      messages: offsets.map((o) => ({ offset: String(o), key: null, value: Buffer.from(`m${o}`), timestamp: '0' })),
      lastOffset: () => String(offsets[offsets.length - 1]),
      resolveOffset: (o) => void resolved.push(o),
      heartbeat, isRunning: () => running, isStale: () => false,
    });
    return { done, resolved };
  };
  return { group, calls, deliver, crash: (e: unknown, restarting: boolean) => crash.forEach((l) => l(e, restarting)), join: (a: Assignment) => joined.forEach((l) => l(a)) };
}

/** A handler whose writes the test finishes one by one. */
function scriptedHandler() {
  const log: string[] = [];
  const writes: Array<{ offsets: string; finish: ReturnType<typeof deferred> }> = [];
  const handler: BatchHandler<string> = {
    prepare: (_t, p, messages) => {
      const offsets = `${p}:${messages.map((m) => m.offset).join(',')}`;
      log.push(`prepare ${offsets}`);
      return offsets;
    },
    write: async (offsets) => {
      log.push(`write ${offsets}`);
      const finish = deferred();
      writes.push({ offsets, finish });
      await finish.promise;
    },
  };
  return { handler, log, writes };
}

function setup() {
  const g = fakeGroup();
  const h = scriptedHandler();
  const fatal: unknown[] = [];
  const inFlight = { n: 0, inc: (n: number) => void (inFlight.n += n), dec: (n: number) => void (inFlight.n -= n) };
  const assignments: Assignment[] = [];
  const pc = createPartitionConsumer({ consumer: g.group, topics: ['t'], handler: h.handler, partitionsConcurrently: 2, heartbeatIntervalMs: 1_000, log: silentLogger, onFatal: (e) => void fatal.push(e), inFlight, onAssignment: (a) => void assignments.push(a) });
  return { ...g, ...h, fatal, inFlight, assignments, pc };
}

describe('the partition consumer', () => {
  it('joins, subscribes and runs with the configured concurrency', async () => {
    const s = setup();
    await s.pc.connect();
    await s.pc.run();
    expect(s.calls).toEqual(['connect', 'subscribe t', 'run 2']);
  });

  it('commits a batch only after its write, prepares the next one meanwhile and writes it only after the commit', async () => {
    const s = setup();
    await s.pc.run();
    const first = s.deliver(0, [0, 1, 2]);
    await first.done; // handed over: the next fetch may go on
    expect(first.resolved).toEqual(['2']);
    expect(s.inFlight.n).toBe(3);
    const second = s.deliver(0, [3, 4]);
    await tick();
    expect(s.log).toEqual(['prepare 0:0,1,2', 'write 0:0,1,2', 'prepare 0:3,4']); // decoded while the first is written
    expect(s.calls.filter((c) => c.startsWith('commit'))).toEqual([]);
    s.writes[0]!.finish.resolve();
    await second.done;
    await tick();
    expect(s.calls.filter((c) => c.startsWith('commit'))).toEqual(['commit t[0] 3']);
    expect(s.log.slice(3)).toEqual(['write 0:3,4']);
    s.writes[1]!.finish.resolve();
    await until('the second commit', () => s.calls.includes('commit t[0] 5'));
    expect(s.inFlight.n).toBe(0);
  });

  it('rewinds a partition to the failed batch, skips what was queued behind it, and backs off before reading it again', async () => {
    const s = setup();
    await s.pc.run();
    await s.deliver(0, [10, 11]).done;
    const queued = s.deliver(0, [12]);
    s.writes[0]!.finish.reject(new Error('503 from the sink'));
    await queued.done;
    await tick();
    expect(s.calls.filter((c) => /^(seek|commit)/.test(c))).toEqual(['seek t[0] 10']);
    expect(s.log).toEqual(['prepare 0:10,11', 'write 0:10,11', 'prepare 0:12']); // 12 was not written: it is read again after 10, 11
    expect(queued.resolved).toEqual([]);
    // Read again from 10: after a backoff (one failure: 150–300 ms), then written and committed.
    const started = Date.now();
    const again = s.deliver(0, [10, 11, 12]);
    await again.done;
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    s.writes[1]!.finish.resolve();
    await until('the commit after the retry', () => s.calls.includes('commit t[0] 13'));
    expect(s.fatal).toEqual([]);
  });

  it('stops on an error retrying cannot fix, without rewinding', async () => {
    const s = setup();
    await s.pc.run();
    await s.deliver(1, [0]).done;
    const bad = new PipelineError('mapping refused for good', { code: 'X', retriable: false });
    s.writes[0]!.finish.reject(bad);
    await until('the fatal error', () => s.fatal.length > 0);
    expect(s.fatal).toEqual([bad]);
    expect(s.calls.some((c) => c.startsWith('seek'))).toBe(false);
  });

  it('finishes the writes handed over before a rebalance moves the partitions', async () => {
    const s = setup();
    await s.pc.run();
    await s.deliver(0, [0]).done;
    const rebalance = Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
    let settled = false;
    const during = s.deliver(1, [0], () => Promise.reject(rebalance));
    void during.done.catch(() => (settled = true));
    await tick();
    expect(settled).toBe(false); // waits for partition 0's write
    s.writes[1]!.finish.resolve();
    s.writes[0]!.finish.resolve();
    await expect(during.done).rejects.toBe(rebalance);
    expect(s.calls.filter((c) => c.startsWith('commit')).sort()).toEqual(['commit t[0] 1', 'commit t[1] 1']);
  });

  it('tracks the assignment of each group join', async () => {
    const s = setup();
    await s.pc.run();
    s.join({ t: [0, 2] });
    expect(s.pc.owns('t', 2)).toBe(true);
    expect(s.pc.owns('t', 1)).toBe(false);
    s.join({ t: [1] });
    expect([s.pc.owns('t', 2), s.pc.owns('t', 1)]).toEqual([false, true]);
    expect(s.assignments).toEqual([{ t: [0, 2] }, { t: [1] }]);
  });

  it('joins the group again after the client gave up because Kafka was unavailable; stops on any other crash; ignores one the client restarts from', async () => {
    const s = setup();
    await s.pc.run();
    s.crash(Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound' }), true);
    s.crash(Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound' }), false);
    await until('the second join', () => s.calls.filter((c) => c.startsWith('run')).length === 2);
    expect(s.calls).toEqual(['run 2', 'connect', 'run 2']);
    expect(s.fatal).toEqual([]);
    const denied = Object.assign(new Error('Not authorized to access group'), { name: 'KafkaJSProtocolError' });
    s.crash(denied, false);
    expect(s.fatal).toEqual([denied]);
  });

  it('on close stops fetching, lets the writes handed over finish and commit, then leaves the group', async () => {
    const s = setup();
    await s.pc.run();
    await s.deliver(0, [7]).done;
    const closed = s.pc.close();
    await tick();
    expect(s.calls).toContain('pause t');
    expect(s.calls).not.toContain('disconnect');
    s.writes[0]!.finish.resolve();
    await closed;
    expect(s.calls.slice(-2)).toEqual(['commit t[0] 8', 'disconnect']);
    // Nothing handed over after close is written.
    await s.deliver(0, [8]).done;
    expect(s.writes).toHaveLength(1);
  });
});
