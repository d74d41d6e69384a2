/**
 * Fields of a stored document that are the pipeline's, not the caller's: `_refs` of joined
 * documents (the rows a document was built from, docs/joined-documents.md) and anything else
 * named with a leading `_`, which the pipeline config refuses as a field name for that reason.
 * Every read that returns `_source` excludes them in Elasticsearch, so they never reach an answer
 * (and are not even sent over the wire: `_refs` grows with every joined row).
 */
export const HIDDEN_SOURCE_PATTERNS: readonly string[] = ['_*', '*._*'];
