import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { parsePipelineConfig, type IndexSpec } from '../../config/pipeline';
import { silentLogger } from '../../core/logger';
import { dropSearchIndex } from './indexer-harness';
import { es, pg } from './services';
import { ensureIndex } from '../../indexer/mappings';
import { EsDocumentSink } from '../../indexer/sink/es-document-sink';

export interface JoinedSchema {
  db: Client;
  client: EsClient;
  spec: IndexSpec;
  /** Writes as the indexer does; its one retry of an unknown outcome keeps a failing test short. */
  sink: EsDocumentSink;
  /** Drops the index and the schema, and closes both clients. */
  close: () => Promise<void>;
}

/**
 * The tables of a joined index in a Postgres schema of their own, and the index created in
 * Elasticsearch, for the joined rebuilder's integration tests. `tables` maps each table's name to
 * its column list, created in that order; `definition` is the index as pipeline.json states it
 * (tables named `schema.table`).
 */
export async function createJoinedSchema(opts: { schema: string; index: string; tables: Record<string, string>; definition: Record<string, unknown> }): Promise<JoinedSchema> {
  const db = await pg();
  const client = es();
  await db.query(`CREATE SCHEMA ${opts.schema}`);
  for (const [table, columns] of Object.entries(opts.tables)) await db.query(`CREATE TABLE ${opts.schema}.${table} (${columns})`);
  const spec = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [opts.index]: opts.definition } })).indexes[0]!;
  await ensureIndex(client, spec);
  return {
    db, client, spec,
    sink: new EsDocumentSink(client, silentLogger, { maxUnknownRetries: 1 }),
    close: async () => {
      await dropSearchIndex(client, opts.index);
      await db.query(`DROP SCHEMA ${opts.schema} CASCADE`);
      await client.close();
      await db.end();
    },
  };
}
