import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadStackConfig } from '../config/stack-config';
import { readEnvFile } from '../stack/env-file';
import { stackPaths } from '../stack/paths';

/**
 * `npm run smoke`: commits one new row to the demo table and measures how long it takes to be
 * searchable through the API. Fails past 30 s. Needs `npm start` first.
 */
const LIMIT_MS = 30_000;

async function main(): Promise<void> {
  const paths = stackPaths(loadStackConfig().stackDir);
  const env = readEnvFile(paths.envFile);
  if (!env?.DATABASE_URL) throw new Error(`${paths.envFile} is missing or has no DATABASE_URL: run \`npm start\` first.`);
  const token = `smoke${randomBytes(6).toString('hex')}`;
  const id = `smoke:${token}`;
  const db = new Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  try {
    await db.query(`INSERT INTO public.software (id, list, name, title) VALUES ($1, 'smoke', $2, $3)`, [id, token, `Smoke test ${token}`]);
    const committed = Date.now();
    let elapsed = 0;
    for (;;) {
      const res = await fetch(`${env.API_URL}/v1/indexes/software/search?q=${token}&size=1`).catch(() => undefined);
      if (res?.ok && ((await res.json()) as { total: number }).total === 1) break;
      elapsed = Date.now() - committed;
      if (elapsed > LIMIT_MS) throw new Error(`row ${id} was not searchable ${LIMIT_MS / 1000} s after commit; check .stack/logs/ingest.log and indexer.log`);
      await new Promise((r) => setTimeout(r, 10));
    }
    elapsed = Date.now() - committed;
    process.stdout.write(`commit-to-searchable: ${elapsed} ms (row ${id}, through ${env.API_URL})\n`);
  } finally {
    await db.query('DELETE FROM public.software WHERE id = $1', [id]).catch(() => undefined);
    await db.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`smoke failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
