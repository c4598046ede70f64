import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client.ts';
import { withDatabase } from '../global-setup.ts';

export interface TestDatabase extends Database {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database of this test file's own, cloned from the migrated template in milliseconds. */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const template = inject('templateDatabase');
  const name = `${template}_${randomBytes(5).toString('hex')}`;
  await admin((c) =>
    c.query(
      opts.migrated === false
        ? `CREATE DATABASE ${name}`
        : `CREATE DATABASE ${name} TEMPLATE ${template}`,
    ),
  );
  const url = withDatabase(inject('adminDatabaseUrl'), name);
  const database = createDatabase({ url, max: 5 });
  return {
    ...database,
    url,
    name,
    async drop() {
      await database.pool.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
