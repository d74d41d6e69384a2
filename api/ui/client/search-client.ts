import { splitIndexName, toAlgoliaResult, toApiParams, type AlgoliaQuery, type ApiSearchAnswer, type PageConfig, type PageIndex } from './mapping';

/** An API error answer, shown on the page as the API worded it. */
export class ApiRequestError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** GET `path` on this API with the page's key; the JSON answer, or an ApiRequestError. */
export async function apiGet<T>(path: string, params: Record<string, string>, key: string | undefined, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`${path}?${new URLSearchParams(params).toString()}`, { headers: key ? { Authorization: `Bearer ${key}` } : {}, ...(signal ? { signal } : {}) });
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok) throw new ApiRequestError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? `the API answered ${res.status}`);
  return body as T;
}

/**
 * The `searchClient` InstantSearch.js calls: every query of a batch becomes one API search, in
 * parallel; identical queries in a batch are asked once.
 */
export function createSearchClient(config: PageConfig, key: string | undefined, onError: (err: unknown) => void) {
  const indexOf = (indexName: string): PageIndex => {
    const name = splitIndexName(indexName).index;
    const found = config.indexes.find((i) => i.name === name);
    if (!found) throw new Error(`no index ${name} on this page`);
    return found;
  };
  return {
    async search(queries: AlgoliaQuery[]) {
      const asked = new Map<string, Promise<ApiSearchAnswer>>();
      try {
        const results = await Promise.all(
          queries.map(async (query) => {
            const index = indexOf(query.indexName);
            const params = toApiParams(query, index);
            const id = `${index.name}?${new URLSearchParams(params).toString()}`;
            if (!asked.has(id)) asked.set(id, apiGet<ApiSearchAnswer>(`/v1/indexes/${encodeURIComponent(index.name)}/search`, params, key));
            return toAlgoliaResult(query, params, await (asked.get(id) as Promise<ApiSearchAnswer>), index);
          }),
        );
        return { results };
      } catch (err) {
        onError(err);
        throw err;
      }
    },
  };
}
