import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import S3rver from 's3rver';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
    redisUrl: string;
    /** Every test queue prefix starts with it (test/helpers/app.ts testPrefix). */
    redisRunPrefix: string;
    /** An S3-compatible server (s3rver) for STORAGE=s3 tests; each file makes its own bucket. */
    s3Endpoint: string;
  }
}

/** Swaps the database name in a connection URL. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Uses DATABASE_URL/REDIS_URL when set (CI, these machines); otherwise starts throwaway
 * containers, as on a developer's machine with Docker. Migrations run once, into a template
 * database that every test file clones.
 */
export default async function setup(project: TestProject) {
  const stops: (() => Promise<unknown>)[] = [];
  let adminUrl = process.env.DATABASE_URL;
  let redisUrl = process.env.REDIS_URL;
  if (!adminUrl) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:17-alpine').start();
    adminUrl = container.getConnectionUri();
    stops.push(() => container.stop());
  }
  if (!redisUrl) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    redisUrl = container.getConnectionUrl();
    stops.push(() => container.stop());
  }

  const template = `amx_tpl_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const database = createDatabase({ url: withDatabase(adminUrl, template), max: 1 });
  await runMigrations(database.db);
  await database.pool.end();

  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('redisUrl', redisUrl);
  // The filesystem store stays the default; files that test S3 make a bucket on this server.
  const s3Dir = await mkdtemp(join(tmpdir(), 'amx-s3-'));
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir });
  const { port } = await s3.run();
  stops.push(async () => {
    await s3.close();
    await rm(s3Dir, { recursive: true, force: true });
  });
  project.provide('s3Endpoint', `http://127.0.0.1:${port}`);
  const redisRunPrefix = `t${randomBytes(3).toString('hex')}`;
  project.provide('redisRunPrefix', redisRunPrefix);

  return async () => {
    // Before the containers stop: a file that forgot its Redis keys fails the run here.
    const leftBehind = await keysLeftBehind(redisUrl, redisRunPrefix);
    // Test files drop their own databases; this catches any a crashed file left behind.
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`,
      [`${template}_%`, template],
    );
    for (const { datname } of rows)
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await admin.end();
    for (const stop of stops.reverse()) await stop();
    if (leftBehind.length) {
      const byPrefix = new Map<string, string[]>();
      for (const key of leftBehind) {
        const prefix = key.slice(0, key.indexOf(':'));
        byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), key]);
      }
      const lines = [...byPrefix].map(
        ([prefix, keys]) => `  ${prefix}: ${keys.length} keys, e.g. ${keys.slice(0, 3).join(', ')}`,
      );
      throw new Error(
        `Tests left ${leftBehind.length} Redis keys behind (each test file must remove its prefix, see test/helpers/redis.ts):\n${lines.join('\n')}`,
      );
    }
  };
}

/**
 * Keys under this run's prefixes once every file has finished. Only this run's: the Redis may
 * be shared with other runs (or a developer's own data), whose keys are none of our business.
 */
async function keysLeftBehind(url: string, runPrefix: string): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `{${runPrefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length) await redis.unlink(...keys);
    return keys.sort();
  } finally {
    redis.disconnect();
  }
}
