import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadStackConfig } from '../../config/stack-config';
import { ensureElasticsearchHome } from '../../stack/elasticsearch';
import { findJavaHome } from '../../stack/java';
import { kernelFreePort } from '../../stack/ports';
import { asUser, isAlive, readPid, runCommand, sendSignal } from '../../stack/process';
import { chownTree, ensureSystemUser } from '../../stack/users';

export interface PrivateEsCluster {
  /** Every node's HTTP address, comma-separated (ELASTICSEARCH_URL takes several). */
  urls: string;
  nodes: ReadonlyArray<{ name: string; url: string }>;
  stop: (name: string, signal?: NodeJS.Signals) => Promise<void>;
  start: (name: string) => Promise<void>;
  health: () => Promise<{ status: string; nodes: number }>;
  destroy: () => Promise<void>;
}

/**
 * A throwaway Elasticsearch cluster of `size` master-eligible data nodes on loopback (distinct
 * HTTP and transport ports, data folders, `discovery.seed_hosts`), from the stack's cached
 * distribution, run as the stack's Elasticsearch user when root. Three nodes, so that losing one
 * keeps a master quorum. The shared stack's node is never touched.
 */
export async function startPrivateEsCluster(size = 3, heapMb = 384): Promise<PrivateEsCluster> {
  const config = loadStackConfig();
  const javaHome = await findJavaHome(config, 'elasticsearch');
  const user = config.isRoot ? config.esUser : undefined;
  if (user) await ensureSystemUser(user, 'elasticsearch');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-es-cluster-'));
  fs.chmodSync(dir, 0o755);
  const home = await ensureElasticsearchHome({ cacheDir: config.cacheDir, logPath: path.join(dir, 'download.log'), log: () => undefined, javaHome, isRoot: config.isRoot });
  const clusterName = path.basename(dir).replace(/[^a-z0-9-]/gi, '-').toLowerCase();
  const specs: Array<{ name: string; http: number; transport: number; dir: string }> = [];
  for (let i = 1; i <= size; i++) specs.push({ name: `node-${i}`, http: await kernelFreePort(), transport: await kernelFreePort(), dir: path.join(dir, `node-${i}`) });
  for (const s of specs) {
    fs.mkdirSync(s.dir);
    fs.cpSync(path.join(home, 'config'), path.join(s.dir, 'config'), { recursive: true });
    for (const d of ['data', 'logs', 'tmp']) fs.mkdirSync(path.join(s.dir, d));
  }
  await chownTree(dir, user);
  const spec = (name: string) => specs.find((s) => s.name === name)!;
  const pidFile = (name: string) => path.join(spec(name).dir, 'es.pid');
  const pidOf = (name: string): number | undefined => readPid(pidFile(name));

  const launch = async (name: string): Promise<void> => {
    const s = spec(name);
    fs.rmSync(pidFile(name), { force: true });
    const settings: Record<string, string> = {
      'cluster.name': clusterName,
      'node.name': s.name,
      'network.host': '127.0.0.1',
      'http.port': String(s.http),
      'transport.port': String(s.transport),
      'discovery.seed_hosts': specs.map((o) => `127.0.0.1:${o.transport}`).join(','),
      'cluster.initial_master_nodes': specs.map((o) => o.name).join(','),
      'xpack.security.enabled': 'false',
      'path.data': path.join(s.dir, 'data'),
      'path.logs': path.join(s.dir, 'logs'),
      'cluster.routing.allocation.disk.threshold_enabled': 'false',
    };
    const env = [`ES_JAVA_HOME=${javaHome}`, `ES_PATH_CONF=${path.join(s.dir, 'config')}`, `ES_JAVA_OPTS=-Xms${heapMb}m -Xmx${heapMb}m`, `ES_TMPDIR=${path.join(s.dir, 'tmp')}`, `CLI_JAVA_OPTS=-Djava.io.tmpdir=${path.join(s.dir, 'tmp')}`];
    const [cmd, args] = asUser(user, 'env', [...env, path.join(home, 'bin', 'elasticsearch'), '-d', '-p', pidFile(name), ...Object.entries(settings).flatMap(([k, v]) => ['-E', `${k}=${v}`])]);
    // -d returns once the node runs (or failed to start).
    const r = await runCommand(cmd, args, { cwd: s.dir });
    if (r.code !== 0) throw new Error(`Elasticsearch ${name} did not start (exit ${r.code}): ${r.output.slice(-3000)}`);
  };
  const health = async (): Promise<{ status: string; nodes: number }> => {
    for (const s of specs) {
      const res = await fetch(`http://127.0.0.1:${s.http}/_cluster/health`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      if (res?.ok) {
        const h = (await res.json()) as { status: string; number_of_nodes: number };
        return { status: h.status, nodes: h.number_of_nodes };
      }
    }
    return { status: 'unreachable', nodes: 0 };
  };
  const waitFor = async (what: string, ok: (h: { status: string; nodes: number }) => boolean, timeoutMs = 180_000): Promise<void> => {
    for (const deadline = Date.now() + timeoutMs; ; ) {
      const h = await health();
      if (ok(h)) return;
      if (Date.now() > deadline) throw new Error(`private Elasticsearch cluster not ${what} after ${timeoutMs} ms (last: ${JSON.stringify(h)})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const stop = async (name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const pid = pidOf(name);
    if (pid === undefined || !isAlive(pid)) return;
    sendSignal(pid, signal);
    for (const deadline = Date.now() + 30_000; isAlive(pid); ) {
      if (Date.now() > deadline) sendSignal(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const destroy = async (): Promise<void> => {
    await Promise.all(specs.map((s) => stop(s.name, 'SIGKILL')));
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    await Promise.all(specs.map((s) => launch(s.name)));
    await waitFor('green with every node', (h) => h.status === 'green' && h.nodes === size);
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    urls: specs.map((s) => `http://127.0.0.1:${s.http}`).join(','),
    nodes: specs.map((s) => ({ name: s.name, url: `http://127.0.0.1:${s.http}` })),
    stop,
    start: async (name) => {
      await launch(name);
      await waitFor(`back to ${size} nodes`, (h) => h.nodes === size);
    },
    health,
    destroy,
  };
}
