/**
 * What a key may do. `search` covers search, documents and suggest; `analytics` the analytics
 * route; `ingest` POST /v1/events (the ingest service's event intake); `admin`
 * implies every other scope. Scopes never widen the tenant: that comes from the key alone.
 */
export const SCOPES = ['search', 'analytics', 'ingest', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** `search,analytics` → scopes; an unknown or missing scope is an error naming the valid ones. */
export function parseScopes(text: string): Scope[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new Error(`no scopes given; choose from ${SCOPES.join(', ')} (comma-separated)`);
  const unknown = list.filter((s) => !isScope(s));
  if (unknown.length) throw new Error(`unknown scope ${unknown.map((s) => JSON.stringify(s)).join(', ')}; choose from ${SCOPES.join(', ')}`);
  return [...new Set(list as Scope[])];
}

export function hasScope(granted: readonly Scope[], needed: Scope): boolean {
  return granted.includes(needed) || granted.includes('admin');
}
