import type { Tracing } from '../../core/tracing';
import type { SearchBackend } from './search-backend';

/** Each Elasticsearch call of a request as an `api.elasticsearch` span, a child of the request's. */
export function tracedSearchBackend(backend: SearchBackend, tracing: Tracing): SearchBackend {
  if (!tracing.on) return backend;
  const traced = <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) => (...args: A): Promise<R> => {
    const index = (args[0] as { name?: unknown } | undefined)?.name;
    return tracing.inSpan('api.elasticsearch', { kind: 'client', attributes: { 'db.system.name': 'elasticsearch', 'db.operation.name': operation, ...(typeof index === 'string' ? { 'db.namespace': index } : {}) } }, () => call(...args));
  };
  return {
    search: traced('search', (i, r) => backend.search(i, r)),
    getDocument: traced('get', (i, id) => backend.getDocument(i, id)),
    suggest: traced('suggest', (i, r) => backend.suggest(i, r)),
    fieldRange: traced('field_range', (i, f, filters) => backend.fieldRange(i, f, filters)),
    analytics: traced('analytics', (i, r) => backend.analytics(i, r)),
    // Readiness probes every few seconds: not worth a trace.
    ready: () => backend.ready(),
  };
}
