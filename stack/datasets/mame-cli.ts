/**
 * Loads the MAME software lists into Postgres:
 *   npx tsx stack/datasets/mame-cli.ts <DATABASE_URL> [table=software]
 * The package is cached in $STACK_CACHE_DIR (default /var/cache/search-pipeline as root, else
 * ~/.cache/search-pipeline), so only the first run downloads. Re-running is safe: existing ids
 * are skipped. The only module here that reads process.env, so the others stay testable.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureMameHashDir } from './mame-download';
import { loadMame } from './mame-load';
import { parseMameLists, type MameEntry } from './mame-parse';

const USAGE = 'usage: npx tsx stack/datasets/mame-cli.ts <DATABASE_URL> [table]   (e.g. postgres://postgres@127.0.0.1:5432/postgres software)';

async function main(argv: string[]): Promise<void> {
  const [url = process.env.DATABASE_URL, table = 'software'] = argv;
  if (!url || url === '-h' || url === '--help') {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const started = Date.now();
  const say = (m: string): void => console.error(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${m}`);

  // Connect first: a wrong URL should fail in a second, not after a download.
  const client = new Client({ connectionString: url, application_name: 'mame-loader' });
  await client.connect();
  try {
    const hashDir = await ensureMameHashDir(cacheDir(), say);
    const seen = new Set<string>();
    const dupes: string[] = [];
    let parsed = 0;
    // Counted here rather than from the insert count, which cannot tell a repeated id in the
    // lists from a row left by an earlier run.
    async function* tally(entries: AsyncIterable<MameEntry>): AsyncGenerator<MameEntry> {
      for await (const e of entries) {
        parsed++;
        if (seen.has(e.id)) dupes.push(e.id);
        else seen.add(e.id);
        yield e;
      }
    }
    let lastReport = 0;
    const loadStart = Date.now();
    const inserted = await loadMame(client, table, tally(parseMameLists(hashDir)), {
      onProgress: (done, ins) => {
        if (done - lastReport < 10_000) return; // a line per 10k rows, not per batch
        lastReport = done;
        say(`${done} entries sent, ${ins} inserted`);
      },
    });
    const secs = (Date.now() - loadStart) / 1000;
    say(`Done: ${parsed} entries parsed from ${hashDir}`);
    say(`${inserted} rows inserted into ${table} in ${secs.toFixed(1)}s (${Math.round(parsed / secs)} entries/s)`);
    say(`${dupes.length} repeated ids in the lists${dupes.length ? ` (dropped): ${dupes.slice(0, 10).join(', ')}${dupes.length > 10 ? ', ...' : ''}` : ''}`);
    const existing = parsed - dupes.length - inserted;
    if (existing > 0) say(`${existing} ids were already in ${table} and were left as they were`);
  } finally {
    await client.end();
  }
}

function cacheDir(): string {
  const fromEnv = process.env.STACK_CACHE_DIR?.trim();
  if (fromEnv) return fromEnv;
  return process.getuid?.() === 0 ? '/var/cache/search-pipeline' : join(homedir(), '.cache', 'search-pipeline');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
