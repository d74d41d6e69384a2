import type { ClientBase } from 'pg';
import type { RawTuple, RelationInfo } from '../transform/to-change-events';

const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;
/** Values as Postgres prints them, like pgoutput sends them, so one conversion serves both. */
const rawText = { getTypeParser: () => (value: string) => value };

/**
 * Reads some columns of one row as it is now, by its key columns' text values; undefined when
 * no row has that key any more. A port so the stream handler can be tested without Postgres.
 */
export type CurrentRowReader = (relation: RelationInfo, key: Readonly<Record<string, string>>, columns: readonly string[]) => Promise<RawTuple | undefined>;

/** undefined_column, undefined_table, invalid_text_representation (a key column retyped since). */
const GONE = new Set(['42703', '42P01', '22P02']);

export function pgCurrentRowReader(db: Pick<ClientBase, 'query'>): CurrentRowReader {
  return async (relation, key, columns) => {
    const names = Object.keys(key);
    const where = names.map((k, i) => `${q(k)} = $${i + 1}`).join(' AND ');
    const text = `SELECT ${columns.map(q).join(', ')} FROM ${q(relation.schema)}.${q(relation.name)} WHERE ${where}`;
    try {
      const { rows } = await db.query<RawTuple>({ text, values: names.map((k) => key[k]), types: rawText });
      return rows[0];
    } catch (err) {
      // Dropped or renamed since (DDL later in the WAL): the row as the change saw it is gone too.
      if (GONE.has((err as { code?: string }).code ?? '')) return undefined;
      throw err;
    }
  };
}
