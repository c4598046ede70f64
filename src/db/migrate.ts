import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import type { Db } from './client.ts';

const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

export async function runMigrations(db: Db): Promise<void> {
  await migrate(db, { migrationsFolder });
}

interface Journal {
  entries: { idx: number; when: number; tag: string }[];
}

/**
 * The api and worker refuse to run against a schema older than their code, rather than failing
 * later on a missing column in the middle of a fan-out.
 */
export async function assertMigrated(pool: pg.Pool): Promise<void> {
  const journal = JSON.parse(
    await readFile(`${migrationsFolder}/meta/_journal.json`, 'utf8'),
  ) as Journal;
  const latest = journal.entries.at(-1);
  if (!latest) return;
  let applied: number | null = null;
  try {
    const res = await pool.query<{ created_at: string }>(
      'SELECT max(created_at) AS created_at FROM drizzle.__drizzle_migrations',
    );
    applied = res.rows[0]?.created_at ? Number(res.rows[0].created_at) : null;
  } catch (err) {
    if ((err as { code?: string }).code !== '42P01') throw err;
  }
  if (applied === null || applied < latest.when) {
    throw new Error(
      `The database is not migrated to this version of admatrix (missing ${latest.tag} or earlier). Run \`npm run db:migrate\` (or \`admatrix migrate\`) first.`,
    );
  }
}
