import fs from 'node:fs';
import path from 'node:path';

/**
 * The layering of docs/architecture.md, enforced: services import `core` and `config` only, never each
 * other; `core` depends on nothing here; `config` only on `core`.
 */
const ROOT = __dirname;
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  config: ['config', 'core'],
  ingest: ['ingest', 'core', 'config'],
  indexer: ['indexer', 'core', 'config'],
  api: ['api', 'core', 'config'],
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.[^'"]+)['"]/g)].map((m) => m[1] as string);
  return specs.map((s) => path.relative(ROOT, path.resolve(path.dirname(file), s)));
}

describe('layering', () => {
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`${layer}/ imports only ${allowed.join(', ')}`, () => {
      const violations = sources(path.join(ROOT, layer)).flatMap((file) =>
        relativeImports(file)
          // Tests may also use the shared test helpers in e2e/support.
          .filter((target) => !allowed.includes(target.split(path.sep)[0] as string) && !(file.endsWith('.test.ts') && target.startsWith(`e2e${path.sep}support`)))
          .map((target) => `${path.relative(ROOT, file)} → ${target}`),
      );
      expect(violations).toEqual([]);
    });
  }
});
