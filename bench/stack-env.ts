import fs from 'node:fs';
import path from 'node:path';
import { loadStackConfig } from '../config/stack-config';

/**
 * The stack's state folder (STACK_DIR, default .stack): its stack.env gives the services' URLs.
 * Variables already set win; without the file a bench reads what the environment has.
 */
export function loadStackEnv(): void {
  const file = path.join(loadStackConfig().stackDir, 'stack.env');
  for (const line of fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
  }
}
