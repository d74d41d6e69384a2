import type { FieldSpec } from './pipeline-fields';

/**
 * The document for one index from a row, holding only configured fields. The indexer writes it;
 * ingest's reconciliation builds it too, to compare rows with documents (one definition for both).
 */
export function buildDocument(fields: readonly FieldSpec[], row: Record<string, unknown>): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const f of fields) {
    if (!Object.prototype.hasOwnProperty.call(row, f.column)) continue;
    const v = row[f.column];
    doc[f.name] = (f.type === 'text' || f.type === 'keyword') && v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
  }
  return doc;
}
