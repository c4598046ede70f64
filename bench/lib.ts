/**
 * Shared set-up for the benches: a scratch database migrated from scratch, the real app built
 * through the same composition root as the api, a tenant key. Needs DATABASE_URL and
 * REDIS_URL (the local services; .ci/run exports them).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../src/app.ts';
import { type Env, loadConfig } from '../src/config.ts';
import { createDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { createInfra } from '../src/main/infra.ts';
import { createTenantService } from '../src/tenants/service.ts';

export { mb, ms } from './format.ts';

export async function scratchDatabase() {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `amx_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDatabase({ url: url.toString(), max: 2 });
  await runMigrations(db.db);
  await db.pool.end();
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export async function benchApp(overrides: Record<string, string> = {}) {
  const db = await scratchDatabase();
  const config: Env = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `bench${randomBytes(3).toString('hex')}`,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    DATABASE_POOL_MAX: '4',
    ...overrides,
  });
  const logger = pino({ level: 'silent' });
  const infra = await createInfra(config, logger, 'api');
  const app = await buildApp({ config, logger, ...infra });
  await app.ready();
  const key = await createTenantService({ db: infra.database.db }).createKey({ tenant: 'bench' });
  return {
    app,
    infra,
    config,
    auth: `Bearer ${key.key}`,
    async close() {
      const keys = await infra.redis.keys(`${config.QUEUE_PREFIX}:*`);
      for (let i = 0; i < keys.length; i += 1000) await infra.redis.del(...keys.slice(i, i + 1000));
      await app.close();
      await infra.close();
      await db.drop();
    },
  };
}

/** Samples RSS while fn runs; maxRSS of the process covers what sampling misses. */
export async function withPeakRss<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; ms: number; peakRss: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const start = performance.now();
  try {
    const value = await fn();
    return {
      value,
      ms: performance.now() - start,
      peakRss: Math.max(peak, process.memoryUsage().rss),
    };
  } finally {
    clearInterval(timer);
  }
}

type BenchApp = Awaited<ReturnType<typeof benchApp>>;

/** A campaign on local and a full run of dimensions of n levels each (key0 … key<n-1>). */
export async function fullRun(
  b: BenchApp,
  dims: Record<string, number>,
  campaign: Record<string, unknown> = {},
) {
  const api = (url: string, payload: object, headers = {}) =>
    b.app.inject({ method: 'POST', url, headers: { authorization: b.auth, ...headers }, payload });
  const created = (
    await api('/v1/campaigns', {
      name: 'bench',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: `Ad: ${Object.keys(dims)
        .map((d) => `{{${d}}}`)
        .join(', ')}`,
      video: { provider: 'local', seconds: 4, size: '720x1280' },
      ...campaign,
    })
  ).json();
  const matrix = (
    await api(`/v1/campaigns/${created.id}/matrices`, {
      dimensions: Object.entries(dims).map(([key, n]) => ({
        key,
        levels: Array.from({ length: n }, (_, i) => ({ key: `${key}${i}` })),
      })),
    })
  ).json();
  const run = await api(
    `/v1/campaigns/${created.id}/runs`,
    { matrix_id: matrix.id, design: { type: 'full' } },
    { 'idempotency-key': randomUUID() },
  );
  if (run.statusCode !== 202) throw new Error(run.body);
  return {
    campaignId: created.id as string,
    matrixId: matrix.id as string,
    runId: run.json().id as string,
  };
}

/** Signed in to the console with the bench key: the session cookie and the CSRF token. */
export async function consoleSession(b: BenchApp) {
  const signIn = await b.app.inject({
    method: 'POST',
    url: '/console/sign-in',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ api_key: b.auth.slice(7) }).toString(),
  });
  const cookie = String(signIn.headers['set-cookie']).split(';')[0] as string;
  const home = await b.app.inject({ method: 'GET', url: '/console', headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1];
  if (!csrf) throw new Error('no CSRF token on the console home page');
  return { cookie, csrf };
}
