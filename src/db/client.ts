import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Logger } from 'pino';
import { createConnectionLog } from '../connection-log.ts';
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
  /** How long a checkout waits for a connection (default 5 s). */
  connectTimeoutMs?: number;
  /** Postgres's statement_timeout for this pool's sessions; 0 or unset, the server's own. */
  statementTimeoutMs?: number;
  /** Where a lost idle connection is reported, once per outage. */
  logger?: Logger;
}): Database {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'admatrix',
    // Fail a checkout quickly when Postgres is gone, so /readyz and requests answer instead of hanging.
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    // A peer that vanished without closing (host down, network cut) is noticed by TCP, not only
    // by the next query hanging.
    keepAlive: true,
    // Server-side, so a runaway query is stopped where it runs; pg's client-side query_timeout
    // would leave the connection mid-query and hand it back to the pool.
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
  // An idle client losing its connection emits on the pool; without a listener that kills the
  // process. The next checkout reconnects, so this is a log line, not a failure.
  const log = opts.logger ? createConnectionLog(opts.logger, 'postgres') : undefined;
  pool.on('error', (err) => log?.error(err));
  pool.on('connect', (client) => {
    log?.ok();
    // The pool listens on idle clients only. A checked-out one between two queries (inside a
    // transaction, say) that loses its connection emits 'error' with no listener, and an
    // unhandled 'error' ends the process: a Postgres restart took every worker down with it.
    // Its holder's next query fails (as unavailable, and is reported there) instead, and the
    // pool drops it on release. Not logged here: an idle client's error reaches the pool's
    // listener above as well.
    client.on('error', () => {});
  });
  return { pool, db: drizzle(pool, { schema }) };
}

// Postgres cannot be reached or is going away, as opposed to a query it refused: admin or crash
// shutdown, not accepting connections yet, too many connections, the database dropped, and
// the 08 class (connection exceptions); plus the socket errors pg passes on as they are.
const unavailableCodes = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '3D000',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
// pg's own errors for a lost connection carry no code.
const unavailableMessages =
  /^(Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end|Client has encountered a connection error|Client was closed and is not queryable)/;

/** Whether an error (or its cause, as drizzle wraps query errors) means the database is out of reach. */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (unavailableCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
      return true;
    if (unavailableMessages.test(e.message)) return true;
    // Node tries each address of a host in turn and reports them all.
    if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner)))
      return true;
    e = e.cause;
  }
  return false;
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
