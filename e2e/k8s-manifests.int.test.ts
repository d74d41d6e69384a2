import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Ajv from 'ajv';
import { SERVICE_NODE_FLAGS, type ServiceName } from '../config/service-runtime';
import { pythonTool } from './support/python-tool';
import { configSource } from './support/config-source';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..');
const DIR = path.join(ROOT, 'ops', 'k8s');
/** Pinned: the Kubernetes schemas it ships decide what passes. */
const KUBERNETES_VALIDATE_VERSION = '1.37.0';
/** The oldest Kubernetes the manifests promise to fit (docs/production.md). */
const KUBERNETES_VERSION = '1.30.0';

interface Resource { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown>; data?: Record<string, string> }

/**
 * ops/k8s: every built-in resource validated strictly (unknown fields refused) against the
 * Kubernetes schemas of kubernetes-validate (PyPI), KEDA's ScaledObject against the schema kept
 * in ops/k8s/schemas, and the references between them (selectors, scale targets, the consumer
 * group, the variables config/ reads) checked, so a manifest cannot drift from the code.
 */
describe('Kubernetes manifests', () => {
  let venv: string;
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  let resources: Resource[] = [];

  const validate = async (file: string): Promise<{ ok: boolean; output: string }> => {
    try {
      const r = await run(path.join(venv, 'bin', 'kubernetes-validate'), ['-k', KUBERNETES_VERSION, '--strict', '--quiet', file]);
      return { ok: true, output: r.stdout + r.stderr };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };

  beforeAll(async () => {
    venv = await pythonTool('kubernetes-validate', KUBERNETES_VALIDATE_VERSION);
    // PyYAML comes with kubernetes-validate: the manifests as JSON, every document of every file.
    const { stdout } = await run(path.join(venv, 'bin', 'python'), ['-c', 'import sys, json, yaml; print(json.dumps([d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]))', ...files.map((f) => path.join(DIR, f))]);
    resources = JSON.parse(stdout) as Resource[];
  }, 600_000);

  it('validates every built-in resource strictly against the Kubernetes schemas', async () => {
    for (const f of files) expect([f, await validate(path.join(DIR, f))]).toEqual([f, { ok: true, output: expect.not.stringMatching(/ERROR/) }]);
  });

  it('would refuse a wrong type and a misspelt field (the validator is not a no-op)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-'));
    const api = fs.readFileSync(path.join(DIR, 'api.yaml'), 'utf8');
    for (const [name, text, says] of [['type', api.replace('replicas: 2', 'replicas: two'), /two/], ['typo', api.replace('terminationGracePeriodSeconds:', 'terminationGracePeriodSecond:'), /terminationGracePeriodSecond' was unexpected/]] as const) {
      fs.writeFileSync(path.join(dir, `${name}.yaml`), text);
      const r = await validate(path.join(dir, `${name}.yaml`));
      expect([name, r.ok, r.output]).toEqual([name, false, expect.stringMatching(says)]);
    }
  });

  it("checks KEDA's ScaledObject against the schema in ops/k8s/schemas, and refuses a misspelt field", () => {
    const schema = JSON.parse(fs.readFileSync(path.join(DIR, 'schemas', 'keda-scaledobject-v1alpha1.schema.json'), 'utf8')) as object;
    const check = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const scaled = resources.filter((r) => r.kind === 'ScaledObject');
    expect(scaled.map((r) => r.metadata.name)).toEqual(['indexer']);
    for (const r of scaled) expect([r.metadata.name, check(r), check.errors ?? null]).toEqual([r.metadata.name, true, null]);
    const typo = structuredClone(scaled[0]!) as unknown as { spec: { triggers: Array<{ metadata: Record<string, string> }> } };
    typo.spec.triggers[0]!.metadata.consumerGroupp = 'x';
    expect(check(typo)).toBe(false);
  });

  it('wires the resources together and to the code', () => {
    const byKind = (kind: string): Resource[] => resources.filter((r) => r.kind === kind);
    const deployments = new Map(byKind('Deployment').map((d) => [d.metadata.name, d as Resource & { spec: { selector: { matchLabels: Record<string, string> }; template: { spec: { containers: Array<{ command: string[]; env?: Array<{ name: string; value: string }> }> } } } }]));
    expect([...deployments.keys()].sort()).toEqual(['api', 'indexer', 'ingest']);
    for (const [name, d] of deployments) expect([name, d.spec.template.spec.containers[0]!.command]).toEqual([name, ['node', ...SERVICE_NODE_FLAGS[name as ServiceName], `dist/${name}/main.js`]]);
    // Every PDB and the HPA point at a Deployment that exists, by its labels or name.
    for (const pdb of byKind('PodDisruptionBudget') as Array<Resource & { spec: { selector: { matchLabels: Record<string, string> } } }>) {
      expect([...deployments.values()].some((d) => JSON.stringify(d.spec.selector.matchLabels) === JSON.stringify(pdb.spec.selector.matchLabels))).toBe(true);
    }
    const hpa = byKind('HorizontalPodAutoscaler')[0] as Resource & { spec: { scaleTargetRef: { name: string }; metrics: Array<{ resource: { name: string } }> } };
    expect([hpa.spec.scaleTargetRef.name, hpa.spec.metrics[0]!.resource.name]).toEqual(['api', 'cpu']);
    const scaled = byKind('ScaledObject')[0] as Resource & { spec: { scaleTargetRef: { name: string }; triggers: Array<{ metadata: Record<string, string> }> } };
    expect(scaled.spec.scaleTargetRef.name).toBe('indexer');
    const indexerEnv = Object.fromEntries(deployments.get('indexer')!.spec.template.spec.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(scaled.spec.triggers[0]!.metadata.consumerGroup).toBe(indexerEnv.INDEXER_GROUP_ID);
    // Only variables config/ reads.
    const source = configSource();
    const configMap = byKind('ConfigMap')[0]!;
    const vars = [...Object.keys(configMap.data!).filter((k) => /^[A-Z]/.test(k)), ...[...deployments.values()].flatMap((d) => d.spec.template.spec.containers[0]!.env?.map((e) => e.name) ?? [])];
    expect(vars.filter((v) => v !== 'REDIS_URL' && !source.includes(`'${v}'`))).toEqual([]);
  });
});
