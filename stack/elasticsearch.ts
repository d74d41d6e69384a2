import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOnce, runMaven, unzipInto, type DownloadContext } from './download';
import { StackError } from './errors';
import { findJavaHome } from './java';
import { logFile, replaceSymlink } from './paths';
import { HOST } from './ports';
import { httpGet } from './probes';
import { asUser, readPid, removeFile, runCommand, sendSignal, spawnDetached } from './process';
import { LaunchError, port, type PreparedService, type ServiceContext, type ServiceDriver } from './service';
import { prepareServiceDir } from './service-dir';
import { pidListensOn } from './sockets';
import { canRead, chownTree, ensureSystemUser } from './users';
import { waitUntil } from './wait';

export const ES_VERSION = '8.19.21';
const ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip`;

export const elasticsearchDriver: ServiceDriver = {
  name: 'elasticsearch',
  portKeys: ['port', 'transportPort'],
  stopSignal: 'SIGTERM',
  serverPidFile: (dir) => path.join(dir, 'es.pid'),
  env: (ports) => ({ ELASTICSEARCH_URL: `http://${HOST}:${port(ports)}` }),
  prepare,
};

async function prepare(ctx: ServiceContext): Promise<PreparedService> {
  const javaHome = await findJavaHome(ctx.config, 'elasticsearch');
  // Elasticsearch refuses to run as root.
  const user = ctx.config.isRoot ? ctx.config.esUser : undefined;
  if (user) await ensureSystemUser(user, 'elasticsearch');
  const downloadLog = path.join(ctx.paths.logsDir, 'download.log');
  const home = await ensureElasticsearchHome({ cacheDir: ctx.config.cacheDir, logPath: downloadLog, log: ctx.log, javaHome, isRoot: ctx.config.isRoot });
  if (!(await canRead(user, path.join(home, 'lib', `elasticsearch-${ES_VERSION}.jar`)))) {
    throw new StackError({
      code: 'START_FAILED',
      service: 'elasticsearch',
      what: `user ${user} cannot read the distribution in ${home}`,
      hint: `Point STACK_CACHE_DIR at a folder every user can read (the default as root is /var/cache/search-pipeline)`,
    });
  }

  const dir = await prepareServiceDir(ctx.paths, 'elasticsearch', user);
  const conf = path.join(dir, 'config');
  const dirs = { data: path.join(dir, 'data'), logs: path.join(dir, 'logs'), tmp: path.join(dir, 'tmp') };
  // A private copy of config/: Elasticsearch writes its keystore there, and the cache is shared.
  if (!fs.existsSync(conf)) {
    // Copied aside then renamed: a half copy would be taken as the config on every later run.
    fs.rmSync(`${conf}.tmp`, { recursive: true, force: true });
    fs.cpSync(path.join(home, 'config'), `${conf}.tmp`, { recursive: true });
    fs.renameSync(`${conf}.tmp`, conf);
  }
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  await chownTree(dir, user);
  replaceSymlink(path.join(dirs.logs, 'elasticsearch.log'), logFile(ctx.paths, 'elasticsearch'));
  const launcherLog = path.join(ctx.paths.logsDir, 'elasticsearch-launcher.log');
  const pidPath = path.join(dir, 'es.pid');

  return {
    async launch(ports) {
      removeFile(pidPath);
      const env = [
        `ES_JAVA_HOME=${javaHome}`,
        `ES_PATH_CONF=${conf}`,
        'ES_JAVA_OPTS=-Xms512m -Xmx512m',
        `ES_TMPDIR=${dirs.tmp}`,
        // Without this the launcher JVM leaves temp folders in the system temp dir.
        `CLI_JAVA_OPTS=-Djava.io.tmpdir=${dirs.tmp}`,
      ];
      const settings = {
        'discovery.type': 'single-node',
        'xpack.security.enabled': 'false',
        'network.host': HOST,
        'http.port': String(port(ports)),
        'transport.port': String(port(ports, 'transportPort')),
        'path.data': dirs.data,
        'path.logs': dirs.logs,
        // A dev disk over 90 % full would otherwise leave shards unassigned and indices read-only.
        'cluster.routing.allocation.disk.threshold_enabled': 'false',
      };
      const esArgs = ['-d', '-p', pidPath, ...Object.entries(settings).flatMap(([k, v]) => ['-E', `${k}=${v}`])];
      const [cmd, args] = asUser(user, 'env', [...env, path.join(home, 'bin', 'elasticsearch'), ...esArgs]);
      fs.appendFileSync(launcherLog, `--- ${new Date().toISOString()} starting on port ${port(ports)}\n`);
      const launcher = await spawnDetached(cmd, args, launcherLog, { cwd: dir });
      const failed = (): string | undefined => {
        const code = launcher.exitCode();
        return code === undefined || code === 0 ? undefined : `the launcher exited with ${code} (see ${launcherLog})`;
      };
      // With -d the launcher returns only once the node runs; the server writes the pid file early.
      let pid: number | undefined;
      try {
        await waitUntil('the Elasticsearch pid file', () => {
          const reason = failed();
          if (reason) throw new LaunchError(reason, tail(launcherLog));
          pid = readPid(pidPath);
          return pid !== undefined;
        }, { deadline: ctx.deadline, signal: ctx.signal });
      } catch (err) {
        sendSignal(-launcher.pid, 'SIGKILL');
        throw err;
      }
      return {
        pid: pid as number,
        check() {
          const reason = failed();
          if (reason) throw new LaunchError(reason, tail(launcherLog));
        },
        async cleanup() {
          if (launcher.exitCode() === undefined) sendSignal(-launcher.pid, 'SIGKILL');
        },
      };
    },
    async isReady(ports, pid) {
      if (!pidListensOn(pid, port(ports))) return false;
      // Not `GET /`: this distribution answers it with 405.
      const res = await httpGet(`http://${HOST}:${port(ports)}/_cluster/health?wait_for_status=yellow&timeout=5s`, 8000);
      return res?.status === 200;
    },
  };
}

/** The unpacked distribution in the download cache (fetched with Maven once per machine); also used by tests that run a private cluster. */
export async function ensureElasticsearchHome(ctx: DownloadContext): Promise<string> {
  const zip = path.join(ctx.cacheDir, `elasticsearch-${ES_VERSION}.zip`);
  await buildOnce(zip, async (tmp) => {
    await runMaven('elasticsearch', `Elasticsearch ${ES_VERSION}`, ['dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${tmp}`], tmp, ctx);
    return path.join(tmp, path.basename(zip));
  });
  const home = path.join(ctx.cacheDir, `elasticsearch-${ES_VERSION}`);
  return buildOnce(home, async (tmp) => {
    ctx.log('elasticsearch: unpacking the distribution into the cache (once per machine)');
    await unzipInto('elasticsearch', zip, tmp, ctx);
    const unpacked = path.join(tmp, path.basename(home));
    // The zip ships config/ as 0660 and jvm.options.d as 0750: unreadable for the other users
    // (the Elasticsearch user, non-root clones) that copy it from this shared cache.
    await runCommand('chmod', ['-R', 'a+rX', unpacked]);
    return unpacked;
  });
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '';
  }
}
