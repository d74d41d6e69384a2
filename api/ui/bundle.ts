import fs from 'node:fs';
import { build } from 'esbuild';
import path from 'node:path';

/**
 * The search page's script: api/ui/client/main.ts with InstantSearch.js from node_modules,
 * bundled by esbuild (no CDN: the page loads only from this API). Built in memory on the first
 * request for it (about a second) and kept; `npm run ui:build` writes the same bundle to disk to
 * check it or serve it elsewhere.
 */
export const CLIENT_ENTRY = path.join(__dirname, 'client', 'main.ts');
const STYLE_FILE = path.join(__dirname, 'client', 'search.css');
/** The production build (scripts/build.sh) puts the bundle here, beside the compiled modules. */
const PREBUILT_SCRIPT = path.join(__dirname, 'client', 'search.js');

export interface SearchPageAssets {
  script(): Promise<string>;
  style(): string;
}

export async function buildSearchScript(opts: { minify?: boolean } = {}): Promise<string> {
  const result = await build({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    minify: opts.minify ?? true,
    legalComments: 'eof',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild produced no output for the search page');
  return out.text;
}

/** The assets, the script built once on first use (a failed build is retried on the next request). */
export function searchPageAssets(): SearchPageAssets {
  let script: Promise<string> | undefined;
  let style: string | undefined;
  return {
    script() {
      script ??= (fs.existsSync(PREBUILT_SCRIPT) ? fs.promises.readFile(PREBUILT_SCRIPT, 'utf8') : buildSearchScript()).catch((err: unknown) => {
        script = undefined;
        throw err;
      });
      return script;
    },
    style() {
      style ??= fs.readFileSync(STYLE_FILE, 'utf8');
      return style;
    },
  };
}
