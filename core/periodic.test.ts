import { every } from './periodic';

describe('every', () => {
  it('never overlaps runs, reports errors and keeps going, and stop waits for the run in progress', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const errors: unknown[] = [];
    let finished = false;
    const p = every(
      1,
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        await new Promise((r) => setTimeout(r, 5));
        active--;
        if (runs === 1) throw new Error('first fails');
        finished = true;
      },
      (e) => errors.push(e),
    );
    while (runs < 3) await new Promise((r) => setTimeout(r, 2));
    await p.stop();
    expect(active).toBe(0);
    expect(finished).toBe(true);
    expect(maxActive).toBe(1);
    expect(errors).toHaveLength(1);
    const after = runs;
    await new Promise((r) => setTimeout(r, 10));
    expect(runs).toBe(after);
    await p.stop();
  });
});
