import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureAptPackage } from './apt';
import { StackError } from './errors';
import { requireMaven } from './java';
import { createMutex } from './mutex';
import { runCommand } from './process';
import type { LogFn, ServiceName } from './types';

// Two Maven runs filling a cold ~/.m2 at once race on the same plugin jars.
const mavenQueue = createMutex();

export interface DownloadContext {
  cacheDir: string;
  /** Where Maven's and unzip's output goes, named in errors. */
  logPath: string;
  log: LogFn;
  javaHome: string;
  isRoot: boolean;
}

/**
 * Builds `final` once: `build` fills a private temp folder next to it, and that folder (or the
 * path inside it that `build` returns) is then renamed into place. A rename is atomic, so an interrupted download leaves only a temp folder (cleaned up by
 * the next run), never a half-filled `final` that would pass for complete.
 */
export async function buildOnce(final: string, build: (tmp: string) => Promise<string | void>): Promise<string> {
  if (fs.existsSync(final)) return final;
  const parent = path.dirname(final);
  fs.mkdirSync(parent, { recursive: true });
  removeStaleTemps(parent, path.basename(final));
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(final)}.tmp-${process.pid}-`));
  try {
    const built = (await build(tmp)) ?? tmp;
    // mkdtemp makes 0700 folders; the cache is shared with other users (the Elasticsearch user).
    if (fs.statSync(built).isDirectory()) fs.chmodSync(built, 0o755);
    try {
      fs.renameSync(built, final);
    } catch (err) {
      // Another clone finished the same download first: theirs is as good as ours.
      if (!fs.existsSync(final)) throw err;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return final;
}

function removeStaleTemps(parent: string, base: string): void {
  for (const entry of fs.readdirSync(parent)) {
    const m = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-(\\d+)-`).exec(entry);
    if (m && !pidRuns(Number(m[1]))) fs.rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function runMaven(service: ServiceName, what: string, args: string[], cwd: string, ctx: DownloadContext): Promise<void> {
  await requireMaven(service, what);
  await mavenQueue(async () => {
    ctx.log(`${service}: downloading ${what} with Maven (once per machine)`);
    const result = await runCommand('mvn', ['-B', '-q', ...args], {
      cwd,
      env: { ...process.env, JAVA_HOME: ctx.javaHome },
    });
    fs.appendFileSync(ctx.logPath, `$ mvn ${args.join(' ')}\n${result.output}\n`);
    if (result.code !== 0) {
      const reason = result.output.split('\n').find((l) => l.includes('[ERROR]'))?.replace(/\x1b\[[0-9;]*m/g, '').trim();
      throw new StackError({
        code: 'DOWNLOAD_FAILED',
        service,
        what: `downloading ${what} failed (mvn exit ${result.code}${reason ? `: ${reason}` : ''})`,
        logPath: ctx.logPath,
        hint: 'Check that Maven Central is reachable (`mvn -B dependency:get -Dartifact=junit:junit:4.13.2`), then run the command again; nothing partial was kept in the cache',
      });
    }
  });
}

export async function unzipInto(service: ServiceName, zip: string, dest: string, ctx: DownloadContext): Promise<void> {
  await ensureAptPackage('unzip', '/usr/bin/unzip', { log: ctx.log, service, isRoot: ctx.isRoot });
  const result = await runCommand('unzip', ['-q', zip, '-d', dest]);
  if (result.code !== 0) {
    fs.appendFileSync(ctx.logPath, `$ unzip -q ${zip}\n${result.output}\n`);
    throw new StackError({
      code: 'DOWNLOAD_FAILED',
      service,
      what: `unzipping ${zip} failed (exit ${result.code})`,
      logPath: ctx.logPath,
      hint: `Delete ${zip} so it is downloaded again, then run the command again`,
    });
  }
}
