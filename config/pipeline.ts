import fs from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';
import { ConfigError } from '../core/errors';
import { compileFields, parseTable, type FieldSpec, type RawField } from './pipeline-fields';
import { compileRanking, type RankingSpec, type RawRanking } from './pipeline-ranking';
import { compileRelations, type RawRelation, type RelationSpec } from './pipeline-relations';
import { pipelineSchema } from './pipeline-schema';

export type { FieldSpec, FieldType } from './pipeline-fields';
export type { JoinPair, RelationKind, RelationSpec } from './pipeline-relations';
export type { RankingRule, RankingSpec } from './pipeline-ranking';

/**
 * The pipeline config: which tables become which search indexes, and how each row becomes
 * a document. Loaded once, validated with errors that name the file, the path inside it
 * and the fix, then frozen.
 */
export interface IndexSpec {
  name: string;
  source: { schema: string; table: string };
  fields: readonly FieldSpec[];
  /**
   * Keyword field naming each document's tenant: the API filters every read on the caller's
   * tenant. Undefined: a shared index that every tenant may read.
   */
  tenantField?: string;
  /**
   * Related tables joined into each document (docs/joined-documents.md). Absent for a
   * single-table index, which is built from its change events alone.
   */
  relations?: readonly RelationSpec[];
  /** Primary shards (default 1); part of the mapping hash, so a change reindexes. */
  shards?: number;
  /** Replicas of each shard; undefined: auto_expand_replicas 0-1. Applied live. */
  replicas?: number;
  /** Ranking rules, popularity tie-breaker and suggestion field (pipeline-ranking.ts); absent: the defaults. */
  ranking?: RankingSpec;
}

export interface PipelineConfig {
  file: string;
  indexes: readonly IndexSpec[];
}

// verbose: errors carry the offending value, which the messages quote.
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validate = ajv.compile(pipelineSchema);

export function loadPipelineConfig(file: string): Readonly<PipelineConfig> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`pipeline config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err}). Set PIPELINE_CONFIG to the path of your pipeline JSON file.`, { file });
  }
  return parsePipelineConfig(text, file);
}

export function parsePipelineConfig(text: string, file = '<inline>'): Readonly<PipelineConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`pipeline config ${file}: not valid JSON: ${(err as Error).message}${where(text, err as Error)}. Fix the syntax (no comments or trailing commas in JSON).`, { file });
  }
  if (!validate(raw)) {
    const lines = (validate.errors ?? []).map(describe);
    throw new ConfigError(`pipeline config ${file} is invalid:\n  - ${[...new Set(lines)].join('\n  - ')}`, { file });
  }
  const problems: string[] = [];
  const indexes = Object.entries((raw as RawConfig).indexes).map(([name, idx]) => compileIndex(name, idx, problems));
  if (problems.length) throw new ConfigError(`pipeline config ${file} is invalid:\n  - ${problems.join('\n  - ')}`, { file });
  return deepFreeze({ file, indexes });
}

interface RawIndex { table: string; fields: Record<string, RawField>; tenantField?: string; analyzer?: string; relations?: Record<string, RawRelation>; shards?: number; replicas?: number; ranking?: RawRanking }
interface RawConfig { indexes: Record<string, RawIndex> }

function compileIndex(name: string, idx: RawIndex, problems: string[]): IndexSpec {
  const source = parseTable(idx.table);
  const fields = compileFields(`/indexes/${name}`, idx.fields, idx.analyzer, problems, true);
  if (!fields.some((f) => f.searchable && (f.type === 'text' || f.type === 'keyword'))) problems.push(`/indexes/${name}/fields: no field is "searchable": true; mark at least one text field searchable.`);
  const spec: IndexSpec = { name, source, fields };
  if (idx.shards !== undefined) spec.shards = idx.shards;
  if (idx.replicas !== undefined) spec.replicas = idx.replicas;
  if (idx.ranking) spec.ranking = compileRanking(`/indexes/${name}`, idx.ranking, fields, problems);
  if (idx.relations) spec.relations = compileRelations(`/indexes/${name}`, idx.relations, fields, idx.analyzer, problems);
  if (idx.tenantField === undefined) return spec;
  // A term filter needs the exact value: text is analysed (and its .raw sub-field optional).
  const tenant = fields.find((f) => f.name === idx.tenantField);
  if (!tenant) problems.push(`/indexes/${name}/tenantField: "${idx.tenantField}" is not a field of this index; add it under "fields" with "type": "keyword".`);
  else if (tenant.type !== 'keyword') problems.push(`/indexes/${name}/tenantField: "${idx.tenantField}" is ${tenant.type}; a tenant field must be "type": "keyword".`);
  return { ...spec, tenantField: idx.tenantField };
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || '/';
  switch (e.keyword) {
    case 'additionalProperties':
      return `${at}: unknown key "${String(e.params.additionalProperty)}"; remove it or check its spelling.`;
    case 'required':
      return `${at}: missing "${String(e.params.missingProperty)}"; add it.`;
    case 'enum':
      return `${at}: ${e.message}: ${(e.params.allowedValues as unknown[]).join(', ')}.`;
    case 'propertyNames':
      return `${at}: the name ${JSON.stringify(e.params.propertyName)} is not allowed; ${e.message ?? ''}.`;
    case 'pattern':
      return `${at}: ${JSON.stringify(e.data)} must match ${String(e.params.pattern)}.`;
    default:
      return `${at}: ${e.message ?? 'is invalid'}.`;
  }
}

function where(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return '';
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  return ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export function findIndex(cfg: PipelineConfig, name: string): IndexSpec | undefined {
  return cfg.indexes.find((i) => i.name === name);
}

/** Every table an index is built from: its root, then each relation's table and through table (no repeats). */
export function sourceTables(index: IndexSpec): Array<{ schema: string; table: string }> {
  const seen = new Map<string, { schema: string; table: string }>();
  const add = (t: { schema: string; table: string }): void => void (seen.has(`${t.schema}.${t.table}`) || seen.set(`${t.schema}.${t.table}`, t));
  const walk = (rels: readonly RelationSpec[]): void => {
    for (const r of rels) {
      if (r.through) add(r.through.source);
      add(r.source);
      walk(r.relations);
    }
  };
  add(index.source);
  walk(index.relations ?? []);
  return [...seen.values()];
}
