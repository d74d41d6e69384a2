/**
 * Fetches Debian's `mame-data` package (MAME's software lists, CC0-1.0) through apt, so it
 * comes from the same mirror and signature checks as every other Debian package on the machine.
 *
 * Cache layout, under `<cacheDir>/mame-data/`:
 *   mame-data_<version>_all.deb     the package, downloaded once
 *   <deb name without .deb>/        its extracted tree, made once per .deb
 * Both appear by rename from a temp dir beside them, so an interrupted run leaves only a
 * `.tmp-*` dir (removed by a later run once an hour old) and never a half-written file that
 * looks finished.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const PACKAGE = 'mame-data';
const HASH_SUBDIR = join('usr', 'share', 'games', 'mame', 'hash');

/** Returns the extracted `hash/` directory, downloading and extracting only what is missing. */
export async function ensureMameHashDir(cacheDir: string, log: (m: string) => void = () => {}): Promise<string> {
  const base = join(cacheDir, PACKAGE);
  await mkdir(base, { recursive: true });
  await removeStaleTemps(base);

  const deb = (await findDeb(base)) ?? (await downloadDeb(base, log));
  const root = join(base, deb.replace(/\.deb$/, ''));
  const hashDir = join(root, HASH_SUBDIR);
  if (await isDir(hashDir)) {
    log(`Using cached ${hashDir}`);
    return hashDir;
  }

  log(`Extracting ${deb}`);
  const tmp = await mkdtemp(join(base, '.tmp-extract-'));
  try {
    await run('dpkg-deb', ['-x', join(base, deb), tmp]);
    if (!(await isDir(join(tmp, HASH_SUBDIR)))) {
      throw new Error(`${deb} has no ${HASH_SUBDIR}; is it really Debian's ${PACKAGE}? Delete it from ${base} to download again.`);
    }
    await renameOrAccept(tmp, root);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return hashDir;
}

/** Newest-named .deb already in the cache, if any (normally there is exactly one). */
async function findDeb(base: string): Promise<string | undefined> {
  const debs = (await readdir(base)).filter((f) => f.startsWith(`${PACKAGE}_`) && f.endsWith('.deb')).sort();
  return debs.at(-1);
}

async function downloadDeb(base: string, log: (m: string) => void): Promise<string> {
  const tmp = await mkdtemp(join(base, '.tmp-download-'));
  try {
    log(`Downloading ${PACKAGE} with apt-get into ${base}`);
    let deb = await aptDownload(tmp);
    if (!deb.ok) {
      // A fresh container often has no package lists at all; one update is the usual cure.
      log(`apt-get download failed (${deb.reason}); running apt-get update once and retrying`);
      const upd = await run('apt-get', ['update'], { allowFailure: true });
      deb = await aptDownload(tmp);
      if (!deb.ok) {
        throw new Error(
          `Could not download Debian package ${PACKAGE}: ${deb.reason}` +
            (upd.code === 0 ? '' : `; apt-get update also failed: ${lastLine(upd.stderr)}`) +
            `. Fix: as root, run \`apt-get update && apt-get download ${PACKAGE}\` and check that the sources in /etc/apt include Debian's "main" component;` +
            ` or copy a ${PACKAGE}_*.deb (e.g. 0.251+dfsg.1-1 from Debian bookworm) into ${base} and run again.`,
        );
      }
    }
    await renameOrAccept(join(tmp, deb.file), join(base, deb.file));
    log(`Downloaded ${deb.file}`);
    return deb.file;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

type AptResult = { ok: true; file: string } | { ok: false; reason: string };

/** `apt-get download` writes to the cwd; success means exit 0 and a .deb actually there. */
async function aptDownload(dir: string): Promise<AptResult> {
  // As root apt warns that its _apt sandbox user cannot write to the temp dir and downloads
  // unsandboxed instead; that warning is harmless, so only the exit code and the file decide.
  const r = await run('apt-get', ['download', PACKAGE], { cwd: dir, allowFailure: true });
  if (r.code !== 0) return { ok: false, reason: `apt-get download exited ${r.code}: ${lastLine(r.stderr)}` };
  const file = (await readdir(dir)).find((f) => f.startsWith(`${PACKAGE}_`) && f.endsWith('.deb'));
  return file ? { ok: true, file } : { ok: false, reason: 'apt-get download exited 0 but produced no .deb' };
}

/** A concurrent run may have finished the same target first; theirs is as good as ours. */
async function renameOrAccept(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(to))) throw err;
  }
}

/** Leftovers of interrupted runs; young ones may belong to a run still going, so they stay. */
async function removeStaleTemps(base: string): Promise<void> {
  const cutoff = Date.now() - 60 * 60 * 1000;
  for (const f of await readdir(base)) {
    if (!f.startsWith('.tmp-')) continue;
    const p = join(base, f);
    const old = await stat(p).then((s) => s.mtimeMs < cutoff, () => false);
    if (old) await rm(p, { recursive: true, force: true });
  }
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n').filter((l) => !l.startsWith('W: ')); // keep errors, not warnings
  return lines.at(-1)?.trim() || s.trim().split('\n').at(-1)?.trim() || 'no output';
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; allowFailure?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new Error(`Cannot run ${cmd}: ${err.message}; this needs a Debian-based system with apt and dpkg.`, { cause: err })));
    child.on('close', (code, signal) => {
      const res = { code: code ?? 128, stdout, stderr };
      if (res.code !== 0 && !opts.allowFailure) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${lastLine(stderr)}`));
      } else resolve(res);
    });
  });
}
