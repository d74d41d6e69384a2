import fs from 'node:fs';
import path from 'node:path';

/**
 * Integration and e2e tests talk to the real services `stack up` started; their addresses are
 * in .stack/stack.env (or STACK_DIR). Variables already set in the environment win.
 */
const stackDir = process.env.STACK_DIR ?? path.join(__dirname, '..', '..', '.stack');
const file = path.join(stackDir, 'stack.env');
if (!fs.existsSync(file)) {
  throw new Error(`${file} is missing: the integration tests need the local stack. Run \`npm test\` (it starts the stack) or \`npm run stack:up\`.`);
}
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1] as string] === undefined) process.env[m[1] as string] = m[2];
}
