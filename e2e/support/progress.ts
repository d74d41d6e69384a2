/**
 * Waits until `done()` holds for as long as `progress()` keeps changing, and fails only after
 * `stallMs` without any change: a test of a mechanism then passes on a busy machine (slower, but
 * moving) and still fails fast when the thing under test is stuck. Deadlines on the total time
 * measured the machine's load instead.
 */
export async function whileProgressing(opts: { done: () => Promise<boolean>; progress: () => Promise<unknown>; what: string; stallMs?: number; pollMs?: number }): Promise<void> {
  const stallMs = opts.stallMs ?? 60_000;
  let last = JSON.stringify(await opts.progress());
  let lastChange = Date.now();
  while (!(await opts.done())) {
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
    const now = JSON.stringify(await opts.progress());
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      throw new Error(`${opts.what}: no progress for ${stallMs} ms (stuck at ${now})`);
    }
  }
}
