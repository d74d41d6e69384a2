import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
export const DASHBOARDS = path.join(ROOT, 'ops', 'grafana', 'dashboards');
export const ALERTS = path.join(ROOT, 'ops', 'prometheus', 'alerts.yml');

/**
 * The metric names a PromQL expression reads, well enough for our dashboards and alerts: label
 * matchers, ranges, strings and the label lists of by/without/on/ignoring/group_* are removed,
 * and what remains that is an identifier, not a function call or a keyword, is a metric name.
 */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan']);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\d+[smhdwy]/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w$.])([A-Za-z_:][\w:]*)(?!\w)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || !name || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

interface Panel { title?: string; targets?: Array<{ expr?: string }>; panels?: Panel[] }

/** Every panel query of the provisioned dashboards, nested rows included. */
export function dashboardExprs(): Array<{ where: string; expr: string }> {
  return fs.readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).flatMap((f) => {
    const d = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, f), 'utf8')) as { panels: Panel[] };
    const panels = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...panels(p.panels ?? [])]);
    return panels(d.panels).flatMap((p) => (p.targets ?? []).filter((t) => t.expr).map((t) => ({ where: `${f}: ${p.title}`, expr: t.expr! })));
  });
}

/** `expr:` values of the rules file: one line, or a `|` block indented below it. */
export function alertExprs(yaml = fs.readFileSync(ALERTS, 'utf8')): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  const lines = yaml.split('\n');
  let alert = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    alert = /^\s*- alert:\s*(\S+)/.exec(line)?.[1] ?? alert;
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) continue;
    let expr = m[2]!;
    if (expr === '|' || expr === '>') {
      const body: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > m[1]!.length)) body.push(lines[++i]!);
      expr = body.join('\n');
    }
    out.push({ where: `alerts.yml: ${alert}`, expr });
  }
  return out;
}
