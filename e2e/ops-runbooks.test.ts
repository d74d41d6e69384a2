import fs from 'node:fs';
import path from 'node:path';

/**
 * Every alert of ops/prometheus/alerts.yml points its runbook annotation at a section of
 * docs/operations.md that exists, named after the alert, and every alert has one.
 */
const ROOT = path.join(__dirname, '..');
const rules = fs.readFileSync(path.join(ROOT, 'ops', 'prometheus', 'alerts.yml'), 'utf8');
const doc = fs.readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string): string => heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');

describe('alert runbooks', () => {
  const alerts = [...new Set([...rules.matchAll(/^\s*- alert: (\S+)/gm)].map((m) => m[1]!))];
  const headings = new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => anchor(m[1]!)));

  it('has a section per alert in docs/operations.md', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    expect(alerts.filter((a) => !headings.has(anchor(a)))).toEqual([]);
  });

  it('links each alert to its own section', () => {
    const blocks = rules.split(/^\s*- alert: /m).slice(1);
    const wrong = blocks
      .map((b) => ({ alert: b.split('\n')[0]!.trim(), runbook: /runbook: "docs\/operations\.md#([^"]+)"/.exec(b)?.[1] }))
      .filter(({ alert, runbook }) => runbook !== anchor(alert) || !headings.has(runbook));
    expect(wrong).toEqual([]);
  });
});
