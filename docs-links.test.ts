import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * The repository stands on its own: every link in its Markdown and every `docs/…md` a code
 * comment names is a file here, and a link's `#anchor` is a heading of that file (GitHub's slugs).
 */
const root = __dirname;
const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);

function slugs(markdown: string): Set<string> {
  const out = new Set<string>();
  let inCode = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    const m = !inCode && /^#{1,6} (.*)$/.exec(line);
    if (m) out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return out;
}

test('every relative Markdown link points to a file of the repository, and its anchor to a heading', () => {
  const broken: string[] = [];
  for (const file of tracked.filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue; // http(s), mailto
      const [path, anchor] = target!.split('#');
      const resolved = path ? normalize(join(dirname(file), path)) : file;
      if (!existsSync(join(root, resolved))) { broken.push(`${file}: ${target} (no file ${resolved})`); continue; }
      if (anchor && resolved.endsWith('.md') && !slugs(readFileSync(join(root, resolved), 'utf8')).has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
    }
  }
  expect(broken).toEqual([]);
});

test('code and docs name only documents that exist here', () => {
  const missing: string[] = [];
  for (const file of tracked.filter((f) => /\.(ts|md|yml|sh|js|json)$/.test(f) || f === '.ci/run')) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const [name] of text.matchAll(/\b(DESIGN|RELIABILITY|STYLE|STACK)\.md\b/g)) missing.push(`${file}: ${name} is not in this repository`);
    for (const [doc] of text.matchAll(/\bdocs\/[\w-]+\.(md|png)\b/g)) if (!existsSync(join(root, doc))) missing.push(`${file}: ${doc}`);
  }
  expect(missing).toEqual([]);
});
