import { Client, type QueryResultRow } from 'pg';

/** One query on a short-lived connection, for checks at start-up. */
export async function queryOnce<R extends QueryResultRow>(connectionString: string, sql: string, params: unknown[] = []): Promise<{ rows: R[] }> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    return await client.query<R>(sql, params);
  } finally {
    await client.end();
  }
}
