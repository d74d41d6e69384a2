import type { Health, PartBase, StatusReport } from './model';
import { partsOf } from './collect';

const MARK: Record<Health, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', unknown: '-' };
const n = (v: number): string => v.toLocaleString('en');

export function bytes(v: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = v;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${i ? x.toFixed(1) : x} ${units[i]}`;
}

/** What is wrong with a part, or why it is not shown, on one line. */
const why = (p: PartBase): string => [p.error, p.note].filter(Boolean).join('; ');

/** The one screen of `npm run status`. */
export function formatStatus(r: StatusReport): string {
  const out: string[] = [];
  const problems = partsOf(r).filter((p) => p.health === 'fail').length;
  out.push(`search pipeline status at ${r.at}: ${r.healthy ? 'HEALTHY' : `UNHEALTHY (${problems} part${problems === 1 ? '' : 's'} failing)`}`);
  out.push('', 'SERVICES');
  for (const [name, s] of Object.entries(r.services)) out.push(row(name, s.health, s.status ?? '', s.version ?? '', s.url ?? '', why(s), s.problems?.length ? `problems: ${JSON.stringify(s.problems)}` : ''));
  out.push('', 'INFRASTRUCTURE');
  for (const [name, s] of Object.entries(r.infra)) out.push(row(name, s.health, s.version ?? '', s.address ?? '', s.detail ?? '', why(s)));

  const slot = r.slot;
  out.push('', `REPLICATION SLOT ${slot.slot}  ${MARK[slot.health]}`);
  if (slot.active !== undefined) out.push(`  ${slot.active ? 'active' : 'INACTIVE'}  held WAL ${slot.lagBytes === undefined ? '?' : bytes(slot.lagBytes)}${slot.lagSeconds !== undefined ? `  last confirmed commit ${slot.lagSeconds.toFixed(1)} s ago` : ''}  wal_status ${slot.walStatus ?? '-'}  confirmed ${slot.confirmedLsn ?? '-'}`);
  if (why(slot)) out.push(`  ${why(slot)}`);

  const lag = r.consumerLag;
  out.push('', `CONSUMER LAG group ${lag.group}  ${MARK[lag.health]}${lag.total !== undefined ? `  total ${n(lag.total)} messages` : ''}`);
  const byTopic = new Map<string, string[]>();
  for (const p of lag.partitions ?? []) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), `p${p.partition} ${n(p.lag)}${p.committed === null ? ' (nothing committed)' : ''}`]);
  for (const [topic, parts] of byTopic) out.push(`  ${topic}: ${parts.join('  ')}`);
  if (why(lag)) out.push(`  ${why(lag)}`);

  const pr = r.progress;
  out.push('', `PROGRESS  ${MARK[pr.health]}`);
  for (const s of pr.snapshot ?? []) out.push(`  snapshot ${s.table}: ${s.done ? 'done' : 'copying'} ${s.percent ?? '?'}% (${n(s.rowsDone)} of ${s.rowsTotal === null ? '?' : n(s.rowsTotal)} rows)${s.etaSeconds !== undefined ? `, about ${s.etaSeconds} s left` : ''}`);
  if (pr.snapshot && !pr.snapshot.length) out.push('  snapshot: no table registered for this slot');
  if (pr.reindex) out.push(pr.reindex.length ? pr.reindex.map((x) => `  reindex ${x.index}: running (${x.owner}, lease until ${x.expiresAt})`).join('\n') : '  reindex: none running');
  if (why(pr)) out.push(`  ${why(pr)}`);

  const ix = r.indexes;
  out.push('', `INDEXES  ${MARK[ix.health]}`);
  for (const i of ix.indexes ?? []) {
    const w = i.watermark;
    const fresh = w ? `watermark LSN ${w.lsn}, commit ${w.commitTs ?? '?'}${w.ageSeconds !== null ? ` (${w.ageSeconds} s old)` : ''}` : `no watermark (${i.positions.have}/${i.positions.expected} partitions)`;
    out.push(`  ${i.index}${i.target && i.target !== i.index ? ` -> ${i.target}` : ''}: ${i.documents === undefined ? 'missing' : `${n(i.documents)} docs`}, ${fresh}`);
  }
  if (!ix.indexes && why(ix)) out.push(`  ${why(ix)}`); // else each row says what is wrong

  const dl = r.deadLetters;
  out.push('', `DEAD LETTERS ${dl.topic}  ${MARK[dl.health]}${dl.count !== undefined ? `  ${n(dl.count)} parked` : ''}`);
  for (const d of dl.recent ?? []) out.push(`  ${d.ref.padEnd(8)} ${d.parkedAt}  ${d.stage.padEnd(7)} ${d.index ?? d.table ?? '?'}/${d.id ?? '?'}  ${d.errorType}: ${d.reason.slice(0, 120)}`);
  if (dl.count) out.push('  details: npm run dead-letters -- list / show <ref>');
  if (why(dl)) out.push(`  ${why(dl)}`);

  const er = r.errors;
  out.push('', `ERRORS  ${MARK[er.health]}`);
  for (const c of er.counters ?? []) out.push(`  ${c.service} ${c.metric}${Object.keys(c.labels).length ? `{${Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(',')}}` : ''} ${n(c.value)}`);
  for (const l of er.recent ?? []) out.push(`  ${l.at ?? ''} ${l.service}: ${l.message}`);
  if (!er.counters?.length && !er.recent?.length) out.push('  none');
  if (why(er)) out.push(`  ${why(er)}`);
  return `${out.join('\n')}\n`;
}

function row(name: string, health: Health, ...cols: string[]): string {
  return `  ${name.padEnd(14)}${MARK[health].padEnd(6)}${cols.filter(Boolean).join('  ')}`.trimEnd();
}
