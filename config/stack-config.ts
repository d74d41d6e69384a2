import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Configuration of the local service stack (`stack/`). This module is the only reader of the
 * environment for it; everything else receives the compiled, frozen object.
 */
export interface StackConfig {
  /** Repository root; relative `STACK_DIR` values resolve against it so any cwd gives one stack. */
  readonly repoRoot: string;
  /** `STACK_DIR`: state folder (pid files, logs, data, stack.env). @defaultValue `<repo>/.stack` */
  readonly stackDir: string;
  /**
   * `STACK_CACHE_DIR`: downloads shared by every clone on the machine (Kafka jars, the
   * Elasticsearch distribution). @defaultValue `/var/cache/search-pipeline` as root,
   * `$XDG_CACHE_HOME/search-pipeline` or `~/.cache/search-pipeline` otherwise
   */
  readonly cacheDir: string;
  /** `STACK_START_TIMEOUT_MS`: how long one service may take to become healthy. @defaultValue 180000 */
  readonly startTimeoutMs: number;
  /** `STACK_STOP_GRACE_MS`: wait after SIGTERM before SIGKILL. @defaultValue 20000 */
  readonly stopGraceMs: number;
  /** `STACK_ES_USER`: system user Elasticsearch runs as when we are root (it refuses root). @defaultValue `search-pipeline-es` */
  readonly esUser: string;
  /** `STACK_JAVA_HOME`: JDK for Kafka and Elasticsearch. @defaultValue the home of `java` on PATH */
  readonly javaHome: string | undefined;
  /** Whether we run as root: decides between runuser/useradd/apt and plain user processes. */
  readonly isRoot: boolean;
}

export class StackConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'StackConfigError';
  }
}

/** Facts about the host that are not environment variables; injectable for tests. */
export interface StackHost {
  uid?: number;
  homeDir?: string;
  repoRoot?: string;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

export function loadStackConfig(env: NodeJS.ProcessEnv = process.env, host: StackHost = {}): StackConfig {
  const repoRoot = host.repoRoot ?? path.resolve(__dirname, '..');
  const isRoot = (host.uid ?? process.getuid?.() ?? -1) === 0;
  const homeDir = host.homeDir ?? env.HOME ?? os.homedir();

  const stackDir = optionalPath(env, 'STACK_DIR', repoRoot) ?? path.join(repoRoot, '.stack');
  const xdgCache = optionalPath(env, 'XDG_CACHE_HOME', repoRoot);
  const defaultCache = isRoot
    ? '/var/cache/search-pipeline'
    : path.join(xdgCache ?? path.join(homeDir, '.cache'), 'search-pipeline');
  const cacheDir = optionalPath(env, 'STACK_CACHE_DIR', repoRoot) ?? defaultCache;
  if (isInside(cacheDir, stackDir)) {
    // The cache must outlive `rm -rf .stack` and be shared by fresh clones.
    throw new StackConfigError('STACK_CACHE_DIR', `expects a folder outside the state folder ${stackDir}, got ${cacheDir}`);
  }

  const esUser = nonEmpty(env.STACK_ES_USER) ?? 'search-pipeline-es';
  if (!USER_NAME.test(esUser)) {
    throw new StackConfigError('STACK_ES_USER', `expects a system user name (lowercase letters, digits, _ and -, at most 32), got ${JSON.stringify(esUser)}`);
  }
  const javaHome = nonEmpty(env.STACK_JAVA_HOME);
  if (javaHome !== undefined && !path.isAbsolute(javaHome)) {
    throw new StackConfigError('STACK_JAVA_HOME', `expects an absolute path to a JDK home, got ${JSON.stringify(javaHome)}`);
  }

  return Object.freeze({
    repoRoot,
    stackDir,
    cacheDir,
    startTimeoutMs: positiveInt(env, 'STACK_START_TIMEOUT_MS', 180_000),
    stopGraceMs: positiveInt(env, 'STACK_STOP_GRACE_MS', 20_000),
    esUser,
    javaHome,
    isRoot,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function optionalPath(env: NodeJS.ProcessEnv, name: string, base: string): string | undefined {
  const value = nonEmpty(env[name]);
  if (value === undefined) return undefined;
  if (value.includes('\0') || value.includes('\n')) {
    throw new StackConfigError(name, 'expects a folder path without NUL or newline characters');
  }
  return path.resolve(base, value);
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = nonEmpty(env[name]);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new StackConfigError(name, `expects a positive whole number of milliseconds, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
