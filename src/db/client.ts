import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.ts';

export type Db = NodePgDatabase<typeof schema>;
/** A transaction handle has the same query surface as the database. */
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Database {
  pool: pg.Pool;
  db: Db;
}

export function createDatabase(opts: {
  url: string;
  max?: number;
  applicationName?: string;
}): Database {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'admatrix',
    // Fail a checkout quickly when Postgres is gone, so /readyz and requests answer instead of hanging.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection emits on the pool; without a listener that kills the process.
  pool.on('error', () => {});
  return { pool, db: drizzle(pool, { schema }) };
}

/**
 * A transaction on one checked-out connection, for work drizzle cannot express (COPY): the
 * callback gets a drizzle handle and the raw client, both inside the same transaction.
 */
export async function clientTransaction<T>(
  pool: pg.Pool,
  fn: (tx: Db, client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(drizzle({ client, schema }), client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that cannot even roll back is not given back to the pool.
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
