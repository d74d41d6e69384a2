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

describe('the Kafka client library', () => {
  // Services and tools hold Kafka through the ports (core/kafka-client.ts); only the adapter's
  // files know the library, so changing it is those files (tests and benches may drive it directly).
  it('is imported by core/kafkajs-*.ts only', () => {
    const code = ['core', 'config', 'ingest', 'indexer', 'api', 'scripts'].flatMap((d) => sources(path.join(ROOT, d))).filter((f) => !f.endsWith('.test.ts') && !f.includes(`${path.sep}test-support${path.sep}`));
    const users = code.filter((f) => /from\s+['"]kafkajs['"]|require\(\s*['"]kafkajs['"]\s*\)/.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
    expect(users.filter((f) => !/^core[/\\]kafkajs-[a-z-]+\.ts$/.test(f))).toEqual([]);
    expect(users.length).toBeGreaterThan(0);
  });
});
