import fs from 'node:fs';
import path from 'node:path';

/** The text of every module of config/ (not its tests): a variable it reads appears in it as `'NAME'`. */
export function configSource(): string {
  const dir = path.join(__dirname, '..', '..', 'config');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
}
