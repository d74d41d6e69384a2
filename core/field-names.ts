/**
 * How a configured field is named inside Elasticsearch for exact-value work (filters, facets,
 * sorting, grouping). Text is analysed, so it is reached through its `.raw` keyword sub-field,
 * which the indexer's mapping adds to text fields that are facetable, filterable or sortable.
 * Shared here so the writer (mapping) and the readers (API) cannot drift apart.
 */
export const RAW_SUBFIELD = 'raw';

export interface NamedField {
  name: string;
  type: string;
}

export function exactFieldName(field: NamedField): string {
  return field.type === 'text' ? `${field.name}.${RAW_SUBFIELD}` : field.name;
}
