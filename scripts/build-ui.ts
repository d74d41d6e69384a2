import fs from 'node:fs';
import path from 'node:path';
import { buildSearchScript } from '../api/ui/bundle';

/**
 * `npm run ui:build [-- <dir>]`: writes the search page's script (api/ui/client bundled with
 * InstantSearch.js by esbuild) to <dir>/search.js, default dist/ui. The API builds the same bundle
 * in memory on the first request for /ui/search.js, so running this is never required; it checks
 * that the page builds and gives a copy to serve elsewhere.
 */
async function main(): Promise<void> {
  const dir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'ui'));
  const started = Date.now();
  const script = await buildSearchScript();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'search.js'), script);
  fs.copyFileSync(path.join(__dirname, '..', 'api', 'ui', 'client', 'search.css'), path.join(dir, 'search.css'));
  process.stderr.write(`ui:build: ${path.join(dir, 'search.js')} (${Math.round(script.length / 1024)} KiB) in ${Date.now() - started} ms\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`ui:build failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
