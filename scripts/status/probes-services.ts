import type { Health, ServicePart } from './model';
import { parsePromText, type Sample } from './prom-text';

export interface Scraped { part: ServicePart; metrics?: Sample[] }

/** A service's /healthz (status, version, problems) and /metrics; down when /healthz does not answer. */
export async function probeService(name: string, url: string | undefined, variable: string, timeoutMs: number, metricsToken?: string): Promise<Scraped> {
  if (!url) return { part: { health: 'unknown', note: `not configured: set ${variable}` } };
  let body: { status?: string; version?: string; problems?: unknown[] };
  try {
    const res = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(timeoutMs) });
    body = (await res.json().catch(() => ({}))) as typeof body;
    if (!res.ok && !body.status) body.status = `HTTP ${res.status}`;
  } catch (err) {
    return { part: { health: 'fail', url, status: 'down', error: `${name} at ${url} does not answer /healthz: ${fetchError(err)}` } };
  }
  const health: Health = body.status === 'ok' ? 'ok' : body.status === 'degraded' ? 'warn' : 'fail';
  const part: ServicePart = { health, url, status: body.status ?? 'unknown', version: body.version ?? 'unknown', ...(body.problems?.length ? { problems: body.problems } : {}) };
  try {
    const res = await fetch(new URL('/metrics', url), { signal: AbortSignal.timeout(timeoutMs), headers: metricsToken ? { authorization: `Bearer ${metricsToken}` } : {} });
    if (!res.ok) return { part: { ...part, note: `/metrics answered ${res.status}${res.status === 401 || res.status === 403 ? ' (set API_METRICS_TOKEN)' : ''}` } };
    return { part, metrics: parsePromText(await res.text()) };
  } catch (err) {
    return { part: { ...part, note: `/metrics: ${fetchError(err)}` } };
  }
}

/** fetch's own message is "fetch failed"; the reason (ECONNREFUSED, a timeout) is in its cause. */
export function fetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer in time';
  const code = e.cause?.code ?? e.cause?.errors?.[0]?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (not running?)';
  return code ?? e.cause?.message ?? e.message ?? String(err);
}
