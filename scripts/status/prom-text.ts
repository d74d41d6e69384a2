/** One sample of the Prometheus text format: `name{label="v",...} value`. */
export interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses the text exposition format (comments and timestamps skipped); enough for our own services' /metrics. */
export function parsePromText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Samples of one metric, optionally only those with a value above zero. */
export function samplesOf(samples: readonly Sample[], name: string, nonZero = false): Sample[] {
  return samples.filter((s) => s.name === name && (!nonZero || s.value > 0));
}
