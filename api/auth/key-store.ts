// Moved to core/api-keys so the ingest intake reads the same key store; kept for api's importers.
export * from '../../core/api-keys/key-store';
