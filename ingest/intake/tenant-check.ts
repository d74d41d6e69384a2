import type { PipelineConfig } from '../../config/pipeline';
import type { ChangeEvent } from '../../core/change-event';

/**
 * A key's tenant on the events it sends (the write side of api/auth/tenant-scope.ts). For a
 * table whose index has a `tenantField`, an event may only address documents of the key's
 * tenant. Documents are found by primary key alone, so that is provable only when the tenant
 * column is part of the key: then another tenant's document has another id, and no event of
 * this key can overwrite or delete it. Without it, refused (an update of id 5 from tenant A
 * would replace tenant B's document 5). A truncate empties every tenant's documents: refused.
 * The row's tenant column, when sent, must match; when left out it is filled in from the key,
 * so the document carries the tenant the API filters on.
 */

/** `schema.table` → the source columns of its indexes' tenant fields. */
export function tenantColumns(pipeline: PipelineConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const index of pipeline.indexes) {
    if (!index.tenantField) continue;
    const column = index.fields.find((f) => f.name === index.tenantField)?.column ?? index.tenantField;
    const table = `${index.source.schema}.${index.source.table}`;
    const list = out.get(table) ?? [];
    if (!list.includes(column)) list.push(column);
    out.set(table, list);
  }
  return out;
}

/** Problems writing `event` for `tenant`; empty when allowed, after filling the row's tenant column in. */
export function enforceTenant(event: ChangeEvent, tenant: string, columns: readonly string[]): string[] {
  if (event.op === 't') return [`/op "t" would empty the documents of every tenant of ${event.source.schema}.${event.source.table}; a key of tenant ${tenant} cannot truncate it (send deletes of your own rows)`];
  const problems: string[] = [];
  for (const column of columns) {
    if (!Object.prototype.hasOwnProperty.call(event.key, column)) {
      problems.push(`/key has no "${column}" (the tenant column), so the document id does not say whose it is and the event could replace another tenant's document; the table needs "${column}" in its primary key to take events from tenant keys`);
      continue;
    }
    if (event.key[column] !== tenant) problems.push(`/key/${column} is ${JSON.stringify(event.key[column])}; this API key writes for tenant ${JSON.stringify(tenant)} only`);
    const after = event.after;
    if (!after) continue;
    if (!Object.prototype.hasOwnProperty.call(after, column)) Object.defineProperty(after, column, { value: tenant, enumerable: true, writable: true, configurable: true });
    else if (after[column] !== tenant) problems.push(`/after/${column} is ${JSON.stringify(after[column])}; this API key writes for tenant ${JSON.stringify(tenant)} only`);
  }
  return problems;
}
