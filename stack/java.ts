import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StackConfig } from '../config/stack-config';
import { StackError } from './errors';
import { runCommand } from './process';
import type { ServiceName } from './types';

const MIN_JAVA = 17;
const INSTALL_HINT = 'Install a JDK with `apt-get install -y openjdk-17-jre-headless` (or set STACK_JAVA_HOME to a JDK 17+ home), then run the command again';

// Checked once per process (it costs a JVM start) and shared by Kafka and Elasticsearch; the
// error is built per caller so it names the right service.
const lookups = new Map<string, Promise<{ home: string } | { problem: string }>>();

/** The JDK home Kafka and Elasticsearch run on: STACK_JAVA_HOME, else the home of `java` on PATH. */
export async function findJavaHome(config: StackConfig, service: ServiceName): Promise<string> {
  const key = config.javaHome ?? '';
  let lookup = lookups.get(key);
  if (!lookup) {
    lookup = locate(config.javaHome);
    lookups.set(key, lookup);
  }
  const found = await lookup;
  if ('home' in found) return found.home;
  lookups.delete(key);
  throw new StackError({ code: 'MISSING_DEPENDENCY', service, what: found.problem, hint: INSTALL_HINT });
}

async function locate(configured: string | undefined): Promise<{ home: string } | { problem: string }> {
  let home = configured;
  if (!home) {
    const found = (await runCommand('sh', ['-c', 'command -v java'])).output.trim();
    if (!found) return { problem: `no \`java\` found on PATH; Kafka and Elasticsearch need Java ${MIN_JAVA} or newer` };
    home = path.dirname(path.dirname(fs.realpathSync(found)));
  }
  const java = path.join(home, 'bin', 'java');
  const version = await runCommand(java, ['-version']);
  const major = parseJavaMajor(version.output);
  if (version.code !== 0 || major === undefined || major < MIN_JAVA) {
    return { problem: `${java} is not a usable Java ${MIN_JAVA}+ (${version.output.trim().split('\n')[0] ?? `exit ${version.code}`})` };
  }
  return { home };
}

/** `openjdk version "17.0.15"` → 17; `"1.8.0_392"` → 8. */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m?.[1]) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] ? Number(m[2]) : first;
}

export async function requireMaven(service: ServiceName, what: string): Promise<void> {
  if ((await runCommand('sh', ['-c', 'command -v mvn'])).output.trim()) return;
  throw new StackError({
    code: 'MISSING_DEPENDENCY',
    service,
    what: `Maven (\`mvn\`) is needed to download ${what} into the download cache and is not on PATH`,
    hint: 'Install it with `apt-get install -y maven` (or point STACK_CACHE_DIR at a cache that already holds the download), then run the command again',
  });
}
