import type { Client as EsClient } from '@elastic/elasticsearch';
import type { ClientBase } from 'pg';
import type { IndexSpec } from '../../config/pipeline';
import { PipelineError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { sleep } from '../../core/retry';
import { requestResnapshot, type KeyTexts } from '../snapshot/resnapshot-requests';
import { BucketSums, bucketCount, bucketOf, canonicalJson, documentHash } from './checksum';
import { indexDocuments, type IndexDocuments } from './index-documents';
import { rowDocuments, type RowDocument, type RowDocuments } from './row-documents';

export type FindingKind = 'missing' | 'extra' | 'stale';
export const FINDING_KINDS: readonly FindingKind[] = ['missing', 'extra', 'stale'];

export interface Finding {
  kind: FindingKind;
  id: string;
  /** stale: the fields whose values differ (or exist on one side only). */
  fields?: string[];
  row?: Record<string, unknown>;
  document?: Record<string, unknown>;
}

export interface ReconcileOptions {
  /** Every row and document (by bucket checksums), or a random sample of `sample` rows and as many documents. */
  sample?: number;
  /** Rows per checksum bucket (about). */
  bucketRows: number;
  /** Wait before differences found are read again (changes still on their way through the pipeline are not drift). */
  settleMs: number;
  /** Examples per kind in the report. */
  examples: number;
  signal?: AbortSignal;
}

export interface ReconcileReport {
  index: string;
  table: string;
  mode: 'full' | 'sample';
  /** Rows and documents read (full: the whole table and index; sample: the samples). */
  rows: number;
  documents: number;
  buckets?: number;
  differingBuckets?: number;
  counts: Record<FindingKind, number>;
  examples: Record<FindingKind, Finding[]>;
  /** Every finding (for repair). */
  findings: Finding[];
  seconds: number;
}

export interface RepairResult {
  /** The re-snapshot request carrying the drifted keys through ingest's ordered path (none when nothing drifted). */
  requestId?: number;
  keys: number;
  /** Documents whose id no row of the table can ever produce, deleted if unchanged since they were read. */
  deletedDirectly: number;
}

/** Why an index cannot be reconciled by row, or undefined when it can. */
export function refusal(index: IndexSpec, httpTables: readonly string[]): string | undefined {
  const table = `${index.source.schema}.${index.source.table}`;
  if (index.relations?.length) {
    return `index ${index.name} joins related tables (${index.relations.map((r) => `${r.source.schema}.${r.source.table}`).join(', ')}) into its documents; reconcile compares single-table indexes only. ` +
      `Rebuild it with npm run reindex -- ${index.name}, or copy its tables again with npm run resnapshot -- ${table}.`;
  }
  if (httpTables.includes(table)) return `index ${index.name} is fed by POST /v1/events (INGEST_HTTP_TABLES), not from Postgres rows: there is no row to compare with.`;
  return undefined;
}

/**
 * Compares an index with its table and reports missing, extra and stale documents.
 *
 * Full: both sides stream through their data once, each summing (count, hash of id and document)
 * per bucket of the id's hash (checksum.ts); only when buckets differ does a second pass collect
 * the ids of those buckets (and only those), and only those ids are compared document by document.
 * Either way every difference is read again after `settleMs`, row and document at that moment, so a
 * change still on its way through the pipeline is not reported as drift.
 */
export async function reconcile(db: ClientBase, es: EsClient, index: IndexSpec, opts: ReconcileOptions, log?: Logger): Promise<ReconcileReport> {
  const started = Date.now();
  const rows = await rowDocuments(db, index);
  const docs = indexDocuments(es, index.name);
  let candidates: string[];
  let summary: Pick<ReconcileReport, 'rows' | 'documents' | 'buckets' | 'differingBuckets' | 'mode'>;
  if (opts.sample !== undefined) {
    const [rowSample, docSample] = await Promise.all([rows.sample(opts.sample), docs.sample(opts.sample)]);
    candidates = [...new Set([...rowSample.map((r) => r.id), ...docSample.map((d) => d.id)])];
    summary = { mode: 'sample', rows: rowSample.length, documents: docSample.length };
  } else {
    const buckets = bucketCount(Math.max(await rows.estimate(), await docs.count()), opts.bucketRows);
    const rowSums = new BucketSums(buckets);
    const docSums = new BucketSums(buckets);
    await Promise.all([
      (async () => {
        for await (const r of rows.scan()) {
          stopIf(opts.signal);
          rowSums.add(r.id, documentHash(r.id, r.doc));
        }
      })(),
      (async () => {
        for await (const d of docs.scan()) {
          stopIf(opts.signal);
          docSums.add(d.id, documentHash(d.id, d.source));
        }
      })(),
    ]);
    const differing = rowSums.differing(docSums);
    summary = { mode: 'full', rows: rowSums.total(), documents: docSums.total(), buckets, differingBuckets: differing.size };
    candidates = differing.size ? await idsThatDiffer(rows, docs, buckets, differing, opts.signal) : [];
    log?.info('reconcile checksums compared', { index: index.name, ...summary, candidates: candidates.length });
  }
  if (candidates.length && opts.settleMs > 0) await sleep(opts.settleMs, opts.signal);
  const findings = candidates.length ? await compareNow(rows, docs, candidates) : [];
  const counts = { missing: 0, extra: 0, stale: 0 };
  const examples: ReconcileReport['examples'] = { missing: [], extra: [], stale: [] };
  for (const f of findings) {
    counts[f.kind]++;
    if (examples[f.kind].length < opts.examples) examples[f.kind].push(f);
  }
  return { index: index.name, table: `${index.source.schema}.${index.source.table}`, ...summary, counts, examples, findings, seconds: (Date.now() - started) / 1000 };
}

/** Second pass: the ids in the differing buckets whose hash differs between the sides (or that one side lacks). */
async function idsThatDiffer(rows: RowDocuments, docs: IndexDocuments, buckets: number, differing: ReadonlySet<number>, signal?: AbortSignal): Promise<string[]> {
  const rowHashes = new Map<string, bigint>();
  const docHashes = new Map<string, bigint>();
  await Promise.all([
    (async () => {
      for await (const r of rows.scan()) {
        stopIf(signal);
        if (differing.has(bucketOf(r.id, buckets))) rowHashes.set(r.id, documentHash(r.id, r.doc));
      }
    })(),
    (async () => {
      for await (const d of docs.scan()) {
        stopIf(signal);
        if (differing.has(bucketOf(d.id, buckets))) docHashes.set(d.id, documentHash(d.id, d.source));
      }
    })(),
  ]);
  const out = new Set<string>();
  for (const [id, h] of rowHashes) if (docHashes.get(id) !== h) out.add(id);
  for (const id of docHashes.keys()) if (!rowHashes.has(id)) out.add(id);
  return [...out];
}

/** Row and document of each id as they are now (documents in real time), classified. */
async function compareNow(rows: RowDocuments, docs: IndexDocuments, ids: readonly string[]): Promise<Finding[]> {
  const keyed = ids.map((id) => ({ id, key: rows.keyOfId(id) }));
  const { found } = await rows.read(keyed.flatMap((k) => (k.key ? [k.key] : [])));
  const current = await docs.get(ids);
  const out: Finding[] = [];
  for (const { id } of keyed) {
    const row = found.get(id);
    const doc = current.get(id);
    if (row && !doc) out.push({ kind: 'missing', id, row: row.doc });
    else if (!row && doc) out.push({ kind: 'extra', id, document: doc.source });
    else if (row && doc && canonicalJson(row.doc) !== canonicalJson(doc.source)) out.push({ kind: 'stale', id, fields: differingFields(row.doc, doc.source), row: row.doc, document: doc.source });
  }
  return out;
}

function stopIf(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PipelineError('reconcile stopped', { code: 'RECONCILE_STOPPED', retriable: true });
}

function differingFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k])).sort();
}

/**
 * Repairs findings through the pipeline's ordered path: one re-snapshot request for the keys of
 * every finding (resnapshot-requests.ts). The running ingest copies the rows that exist and
 * deletes the documents of keys without a row, each versioned at its chunk's high watermark, so a
 * repair can never overwrite a newer change. Only an extra document whose id no row of the table
 * can ever produce (not a key of this table) is deleted here, and only if it was not written since
 * it was read: no change event can ever address it, so there is nothing to order it against.
 */
export async function repair(db: ClientBase, es: EsClient, index: IndexSpec, slot: string, findings: readonly Finding[]): Promise<RepairResult> {
  if (!findings.length) return { keys: 0, deletedDirectly: 0 };
  const rows = await rowDocuments(db, index);
  const docs = indexDocuments(es, index.name);
  const byKey = new Map<string, { key: KeyTexts; id: string }>();
  const orphans: string[] = [];
  for (const f of findings) {
    const key = rows.keyOfId(f.id);
    if (key) byKey.set(JSON.stringify(key), { key, id: f.id });
    else if (f.kind === 'extra') orphans.push(f.id);
    else throw new PipelineError(`document id ${f.id} of ${index.name} has a row but no key: a bug in reconcile`, { code: 'RECONCILE_KEY', retriable: false });
  }
  // Keys Postgres refuses for the key's types (not a number, not a uuid) cannot have rows either.
  const { refused } = await rows.read([...byKey.values()].map((k) => k.key));
  for (const k of refused) {
    orphans.push(byKey.get(JSON.stringify(k))!.id);
    byKey.delete(JSON.stringify(k));
  }
  const copy = [...byKey.values()].map((k) => k.key);
  let deletedDirectly = 0;
  for (const d of (await docs.get(orphans)).values()) if (await docs.deleteIfUnchanged(d)) deletedDirectly++;
  const requestId = copy.length ? await requestResnapshot(db, slot, `${index.source.schema}.${index.source.table}`, { keys: copy }, `reconcile ${index.name}`) : undefined;
  return { requestId, keys: copy.length, deletedDirectly };
}

/** For the command's wait: the findings' ids compared again now (after a repair went through). */
export async function recheck(db: ClientBase, es: EsClient, index: IndexSpec, ids: readonly string[]): Promise<Finding[]> {
  return compareNow(await rowDocuments(db, index), indexDocuments(es, index.name), ids);
}
export type { RowDocument };
