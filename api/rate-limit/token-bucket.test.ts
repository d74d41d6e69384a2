import { retryAfterSeconds, takeToken, type BucketState } from './token-bucket';

describe('token bucket', () => {
  const run = (times: number[], rate: number, burst: number) => {
    let state: BucketState | undefined;
    return times.map((t) => {
      const r = takeToken(state, t, rate, burst);
      state = r.state;
      return r;
    });
  };

  it('allows a full burst at once, then refuses with the time until one token is back', () => {
    const results = run([0, 0, 0, 0], 2, 3);
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[3]!.retryAfterMs).toBe(500); // 2 tokens/s: one every 500 ms
  });
  it('refills at the rate, never above the burst', () => {
    const results = run([0, 0, 250, 500, 10_000, 10_000, 10_000], 2, 2);
    expect(results.map((r) => r.allowed)).toEqual([true, true, false, true, true, true, false]);
    expect(results[2]!.retryAfterMs).toBe(250); // half a token there, half missing
  });
  it('sustains exactly the rate over time', () => {
    const times = Array.from({ length: 1000 }, (_, i) => i * 10); // 100 requests/s for 10 s
    const allowed = run(times, 20, 5).filter((r) => r.allowed).length;
    expect(allowed).toBeGreaterThanOrEqual(5 + 20 * 9.9 - 1);
    expect(allowed).toBeLessThanOrEqual(5 + 20 * 10);
  });
  it('does not refill when the clock goes backwards', () => {
    const results = run([1000, 1000, 500, 500], 1, 2);
    expect(results.map((r) => r.allowed)).toEqual([true, true, false, false]);
  });
  it('turns milliseconds into a Retry-After of at least one whole second', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
  });
});
