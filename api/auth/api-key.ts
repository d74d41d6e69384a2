// Moved to core/api-keys so the ingest intake verifies the same keys; kept for api's importers.
export * from '../../core/api-keys/api-key';
