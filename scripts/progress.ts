/**
 * A one-line progress bar on a terminal; on a pipe (CI, logs) a plain line every 10 %.
 * `update` may pass a new total (work that grows while it is done, e.g. a replay of a live topic).
 */
export function progressBar(label: string, total: number, out: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let lastDecile = -1;
  const render = (done: number, final = false): void => {
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    const rate = Math.round(done / secs);
    const eta = rate > 0 && done < total ? Math.ceil((total - done) / rate) : 0;
    const text = `${label} ${(frac * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en')}/${total.toLocaleString('en')} ${rate.toLocaleString('en')}/s${eta ? ` eta ${eta}s` : ''}`;
    if (out.isTTY) {
      const width = 24;
      const filled = Math.round(frac * width);
      out.write(`\r  [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${text}\x1b[K${final ? '\n' : ''}`);
    } else {
      const decile = Math.floor(frac * 10);
      if (decile !== lastDecile || (final && lastDecile !== 10)) {
        lastDecile = decile;
        out.write(`  ${text}\n`);
      }
    }
  };
  return {
    update: (done: number, newTotal?: number) => {
      if (newTotal !== undefined) total = newTotal;
      render(done);
    },
    done: (done: number) => render(done, true),
  };
}
