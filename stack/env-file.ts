import * as fs from 'node:fs';
import type { StackEnv } from './types';

/** Fixed order, so the file diffs cleanly and reads the same as the data flow. */
const KEYS = ['DATABASE_URL', 'KAFKA_BROKERS', 'ELASTICSEARCH_URL', 'REDIS_URL', 'API_URL'] as const;

/** `KEY=VALUE` lines: sourceable by bash (`set -a; . .stack/stack.env`) and by dotenv readers. */
export function renderEnvFile(env: StackEnv): string {
  return KEYS.filter((k) => env[k] !== undefined)
    .map((k) => `${k}=${env[k]}\n`)
    .join('');
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** Reads a stack.env; undefined when there is none or it lacks API_URL (not written by us). */
export function readEnvFile(file: string): StackEnv | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const vars = parseEnvFile(text);
  if (!vars.API_URL) return undefined;
  const env: StackEnv = { API_URL: vars.API_URL };
  for (const k of KEYS) if (vars[k] !== undefined) env[k] = vars[k];
  return env;
}

/** Write-then-rename so a reader never sees half a file. */
export function writeFileAtomic(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}
