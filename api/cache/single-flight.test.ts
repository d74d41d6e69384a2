import { SingleFlight } from './single-flight';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('runs concurrent calls with one key once and gives every caller the result', async () => {
    const sf = new SingleFlight<number>();
    const d = deferred<number>();
    let runs = 0;
    const calls = Array.from({ length: 50 }, () => sf.run('k', () => (runs++, d.promise)));
    d.resolve(42);
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(results.map((r) => r.value)).toEqual(Array(50).fill(42));
    expect(results.filter((r) => !r.joined)).toHaveLength(1);
    expect(sf.size).toBe(0);
  });

  it('runs different keys separately', async () => {
    const sf = new SingleFlight<string>();
    const [a, b] = await Promise.all([sf.run('a', async () => 'A'), sf.run('b', async () => 'B')]);
    expect([a.value, b.value, a.joined, b.joined]).toEqual(['A', 'B', false, false]);
  });

  it('shares a failure with every waiting caller, then runs again on the next call', async () => {
    const sf = new SingleFlight<number>();
    const d = deferred<number>();
    const calls = [sf.run('k', () => d.promise), sf.run('k', () => d.promise)];
    d.reject(new Error('es down'));
    for (const c of calls) await expect(c).rejects.toThrow('es down');
    expect(sf.size).toBe(0);
    expect((await sf.run('k', async () => 7)).value).toBe(7);
  });

  it('forgets a key once it settled, so a later call computes again', async () => {
    const sf = new SingleFlight<number>();
    let runs = 0;
    await sf.run('k', async () => ++runs);
    const second = await sf.run('k', async () => ++runs);
    expect([runs, second.joined]).toEqual([2, false]);
  });
});
