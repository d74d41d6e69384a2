// Moved to core/api-keys so the ingest intake checks the same scopes; kept for api's importers.
export * from '../../core/api-keys/scopes';
