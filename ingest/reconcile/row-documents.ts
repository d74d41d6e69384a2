import type { ClientBase } from 'pg';
import type { IndexSpec } from '../../config/pipeline';
import { buildDocument } from '../../config/pipeline-document';
import { documentId } from '../../core/change-event';
import type { KeyTexts } from '../snapshot/resnapshot-requests';
import { describeTable, keyTexts, readChunk, readKeys } from '../snapshot/table-reader';
import { toSnapshotEvent, tupleDocumentId, type RawTuple, type RelationInfo } from '../transform/to-change-events';

export interface RowDocument { id: string; key: KeyTexts; doc: Record<string, unknown> }

const NO_TX = { xid: 0, commitLsn: '0', ts: '' };

/**
 * The documents an index should hold, built from its table's rows by the code the pipeline uses:
 * values converted as the stream converts them (to-change-events.ts), fields as the indexer builds
 * them (config/pipeline-document.ts). Reads pages in key order on the caller's connection.
 */
export async function rowDocuments(db: ClientBase, index: IndexSpec) {
  const relation: RelationInfo = await describeTable(db, index.source.schema, index.source.table);
  const toDocument = (tuple: RawTuple): RowDocument => {
    const e = toSnapshotEvent(relation, tuple, '0', NO_TX);
    return { id: documentId(e.key), key: keyTexts(relation, tuple), doc: buildDocument(index.fields, e.after!) };
  };
  const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;
  const table = `${q(relation.schema)}.${q(relation.name)}`;

  return {
    relation,
    /** Rows by the planner's estimate (no scan), or an exact count of a table never analysed. */
    async estimate(): Promise<number> {
      const { rows } = await db.query<{ n: number }>(`SELECT reltuples::float8 AS n FROM pg_class WHERE oid = $1::regclass`, [table]);
      const n = rows[0]?.n ?? -1;
      if (n >= 0) return Math.round(n);
      return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    },
    /** Every row's document, a page at a time (keyset paging: no long transaction, no cursor). */
    async *scan(pageRows = 5000): AsyncGenerator<RowDocument> {
      for (let after: string[] | null = null; ;) {
        const page = await readChunk(db, relation, after, pageRows);
        for (const t of page) yield toDocument(t);
        if (page.length < pageRows) return;
        after = keyTexts(relation, page[page.length - 1]!);
      }
    },
    /** `n` rows picked at random (Bernoulli sampling sized from the estimate: one pass over the table's pages, no sort of all rows). */
    async sample(n: number): Promise<RowDocument[]> {
      const total = Math.max(1, await this.estimate());
      const percent = Math.min(100, (100 * n * 1.5) / total);
      const cols = relation.columns.map((c) => q(c.name)).join(', ');
      const { rows } = await db.query<RawTuple>({ text: `SELECT ${cols} FROM ${table} TABLESAMPLE BERNOULLI (${percent}) LIMIT ${Math.floor(n)}`, types: { getTypeParser: () => (v: string) => v } });
      return rows.map(toDocument);
    },
    /**
     * The key of the row a document id would come from, or undefined when no row can produce that
     * id (not a key of this table: another shape, or a text the key's type prints differently).
     */
    keyOfId(id: string): KeyTexts | undefined {
      let texts: string[];
      if (relation.keyColumns.length === 1) texts = [id];
      else {
        let parsed: unknown;
        try {
          parsed = JSON.parse(id);
        } catch {
          return undefined;
        }
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
        const o = parsed as Record<string, unknown>;
        if (Object.keys(o).length !== relation.keyColumns.length || relation.keyColumns.some((k) => o[k] === null || o[k] === undefined || typeof o[k] === 'object')) return undefined;
        texts = relation.keyColumns.map((k) => String(o[k]));
      }
      const tuple = Object.fromEntries(relation.keyColumns.map((k, i) => [k, texts[i]!]));
      try {
        return tupleDocumentId(relation, tuple) === id ? texts : undefined;
      } catch {
        return undefined;
      }
    },
    /**
     * The documents of these keys' rows, by id; keys Postgres refuses for the key's types (a text
     * that is not a number, not a uuid, ...) are returned in `refused`: no row can have them.
     */
    async read(keys: readonly KeyTexts[]): Promise<{ found: Map<string, RowDocument>; refused: KeyTexts[] }> {
      const found = new Map<string, RowDocument>();
      const refused: KeyTexts[] = [];
      const readSome = async (some: readonly KeyTexts[]): Promise<void> => {
        try {
          for (const t of await readKeys(db, relation, some)) {
            const d = toDocument(t);
            found.set(d.id, d);
          }
        } catch (err) {
          if (!/^22/.test((err as { code?: string }).code ?? '')) throw err;
          if (some.length === 1) refused.push(some[0]!);
          else for (const k of some) await readSome([k]); // find the refused one(s)
        }
      };
      for (let i = 0; i < keys.length; i += 1000) await readSome(keys.slice(i, i + 1000));
      return { found, refused };
    },
  };
}
export type RowDocuments = Awaited<ReturnType<typeof rowDocuments>>;
