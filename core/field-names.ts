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

/**
 * The lower-cased whole value of a searchable text field (`<field>.exact`, a keyword sub-field
 * with Elasticsearch's built-in `lowercase` normalizer): ranking compares the query with the whole
 * field through it (equal, starts with, one typo away) and suggestions complete it. Values longer
 * than EXACT_MAX_CHARS are not in it; such a field is never a name anyone types whole.
 */
export const EXACT_SUBFIELD = 'exact';
export const EXACT_MAX_CHARS = 256;

/** The field ranking and suggestions compare whole values on: `.exact` for text, the keyword itself. */
export function wholeValueFieldName(field: NamedField): string {
  return field.type === 'text' ? `${field.name}.${EXACT_SUBFIELD}` : field.name;
}
