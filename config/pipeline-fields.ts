import type { FIELD_TYPES } from './pipeline-schema';

/** How one column of a row becomes one field of the document. */
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldSpec {
  name: string;
  type: FieldType;
  column: string;
  analyzer: string;
  searchable: boolean;
  boost: number;
  filterable: boolean;
  facetable: boolean;
  sortable: boolean;
  /** Accepted for older configs (text and keyword only); maps to nothing: /suggest reads the `.exact` of searchable text (indexer/mappings.ts). */
  suggest: boolean;
}

export interface RawField { type: FieldType; column?: string; analyzer?: string; searchable?: boolean; boost?: number; filterable?: boolean; facetable?: boolean; sortable?: boolean; suggest?: boolean }

/** "schema.table" or "table" (in public). */
export function parseTable(name: string): { schema: string; table: string } {
  const [schema, table] = name.includes('.') ? (name.split('.') as [string, string]) : ['public', name];
  return { schema, table };
}

/**
 * The fields of the root table (`root`) or of a relation; `at` is the JSON path of the object
 * holding "fields", for the messages.
 */
export function compileFields(at: string, raw: Record<string, RawField>, indexAnalyzer: string | undefined, problems: string[], root: boolean): FieldSpec[] {
  return Object.entries(raw).map(([fname, f]): FieldSpec => {
    const here = `${at}/fields/${fname}`;
    const textual = f.type === 'text' || f.type === 'keyword';
    if (f.searchable && !textual) problems.push(`${here}/searchable: only text and keyword fields can be searchable; remove it or change the type.`);
    if (f.boost !== undefined && !f.searchable) problems.push(`${here}/boost: a boost needs "searchable": true.`);
    if (f.analyzer !== undefined && f.type !== 'text') problems.push(`${here}/analyzer: analyzers apply to text fields only; remove it or use "type": "text".`);
    if (f.suggest && !textual) problems.push(`${here}/suggest: suggestions complete text or keyword values; remove it or change the type.`);
    // `id` is the document id at the root only; `_` names are Elasticsearch's and the pipeline's (`_refs`).
    if ((root && fname === 'id') || fname.startsWith('_')) problems.push(`${here}: "${fname}" is reserved; rename the field and set "column": "${fname}".`);
    return {
      name: fname,
      type: f.type,
      column: f.column ?? fname,
      analyzer: f.analyzer ?? indexAnalyzer ?? 'standard',
      searchable: f.searchable ?? false,
      boost: f.boost ?? 1,
      filterable: f.filterable ?? false,
      facetable: f.facetable ?? false,
      sortable: f.sortable ?? false,
      suggest: f.suggest ?? false,
    };
  });
}
