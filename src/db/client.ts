import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.ts';

export type Db = NodePgDatabase<typeof schema>;
/** A transaction handle has the same query surface as the database. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
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
