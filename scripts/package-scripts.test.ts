import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Every documented command must work on a fresh clone, before anything is installed: each script
// installs what is missing first (scripts/ensure-deps.sh runs `npm ci` only when the lock changed).
test('every npm script installs missing dependencies before it runs', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const bare = Object.entries(pkg.scripts).filter(([, cmd]) => !cmd.startsWith('bash scripts/ensure-deps.sh && '));
  expect(bare).toEqual([]);
});
