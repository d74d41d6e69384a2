import type { ClientBase } from 'pg';
import type { PipelineConfig } from '../../config/pipeline';
import { ConfigError } from '../../core/errors';
import { intakeTables } from './intake-app';

/**
 * One version space per table (docs/change-event.md): a table listed in INGEST_HTTP_TABLES gets
 * its versions from an upstream service, so ingest must not also capture it from Postgres, where
 * versions are WAL positions (and heartbeats would push WAL positions into its topic's freshness
 * watermark). This splits the pipeline into what CDC captures and what only the intake feeds.
 */
export function splitPipeline(pipeline: PipelineConfig, httpTables: readonly string[]): { captured: PipelineConfig; upstream: string[] } {
  const { accepted } = intakeTables(pipeline, httpTables);
  const captured = { ...pipeline, indexes: pipeline.indexes.filter((i) => !accepted.has(`${i.source.schema}.${i.source.table}`)) };
  return { captured, upstream: [...accepted] };
}

/** A publication made before a table moved to INGEST_HTTP_TABLES would still stream its Postgres changes. */
export async function refusePublishedUpstreamTables(db: ClientBase, publication: string, upstream: readonly string[]): Promise<void> {
  if (upstream.length === 0) return;
  const { rows } = await db.query<{ t: string }>(
    "SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1 AND schemaname || '.' || tablename = ANY($2)",
    [publication, upstream],
  );
  if (rows.length) {
    const list = rows.map((r) => r.t).join(', ');
    throw new ConfigError(
      `INGEST_HTTP_TABLES lists ${list}, which publication ${publication} still captures from Postgres; a table takes versions from one source only. Run ALTER PUBLICATION ${publication} DROP TABLE ${list}; or remove it from INGEST_HTTP_TABLES.`,
      { variable: 'INGEST_HTTP_TABLES' },
    );
  }
}
