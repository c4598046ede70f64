import type { FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { type Env, loadConfig } from '../../src/config.ts';
import { createInfra, type Infra, type Role } from '../../src/main/infra.ts';
import type { Scope } from '../../src/tenants/scopes.ts';
import { createTenantService } from '../../src/tenants/service.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { recentWarnings, testLogger } from './log-ring.ts';
import { removeKeysUnder, testPrefix } from './redis.ts';

export interface TestApp {
  app: FastifyInstance;
  infra: Infra;
  config: Env;
  testDb: TestDatabase;
  /** Creates a tenant (if new) and a key for it; returns the bearer header value. */
  key(tenant: string, scopes?: Scope[]): Promise<string>;
  close(): Promise<void>;
}

export { testPrefix };

/**
 * x264 for every test process: the same filters and graphs at under half the encoding CPU,
 * since the suite is CPU-bound. Spawned api and worker processes take it too.
 */
export const testEncoderEnv = { FFMPEG_X264_PRESET: 'ultrafast' };

export function testConfig(overrides: Record<string, string> & { DATABASE_URL: string }): Env {
  return loadConfig({
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: testPrefix(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...testEncoderEnv,
    RATE_LIMIT_PER_MINUTE: '0',
    // Every inject comes from 127.0.0.1; the files that test the limit turn it on.
    AUTH_FAILURES_PER_MINUTE: '0',
    ...overrides,
  });
}

/** The real app, real Postgres (a database of its own), real Redis (a queue prefix of its own). */
export async function createTestApp(
  overrides: Record<string, string> = {},
  role: Role = 'api',
): Promise<TestApp> {
  const testDb = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: testDb.url, ...overrides });
  const logger = testLogger(config.LOG_LEVEL);
  const infra = await createInfra(config, logger, role);
  const app = await buildApp({ config, logger, ...infra });
  await app.ready();
  const tenants = createTenantService({ db: testDb.db });
  return {
    app,
    infra,
    config,
    testDb,
    async key(tenant, scopes) {
      const created = await tenants.createKey({ tenant, ...(scopes ? { scopes } : {}) });
      return `Bearer ${created.key}`;
    },
    async close() {
      await app.close();
      // Last user of the prefix: workers (test/helpers/workers.ts) are closed before this.
      await removeKeysUnder(infra.redis, config.QUEUE_PREFIX);
      await infra.close();
      await testDb.drop();
    },
  };
}

/** What a spawned api or worker process needs to share this test app's database, queues and files. */
export function processEnv(t: TestApp): Record<string, string> {
  return {
    DATABASE_URL: t.config.DATABASE_URL,
    REDIS_URL: t.config.REDIS_URL,
    QUEUE_PREFIX: t.config.QUEUE_PREFIX,
    STORAGE_DIR: t.config.STORAGE_DIR,
    WORK_DIR: t.config.WORK_DIR,
    FFMPEG_X264_PRESET: t.config.FFMPEG_X264_PRESET,
    LOG_LEVEL: 'info',
  };
}

/** Polls until the check returns a value (not undefined), or fails at the deadline. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs?: number; what?: string | (() => string) } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const what = typeof opts.what === 'function' ? opts.what() : (opts.what ?? 'condition');
      throw new Error(`timed out waiting for ${what}${recentWarnings()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * openai configured for the api only: its campaigns pass the catalog (an unconfigured provider
 * is a 422), and nothing renders, so the base URL points where nothing listens.
 */
export const openaiApiOnly = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:9' };

export const campaignBody = {
  name: 'Summer soda',
  brief: { product: 'Fizz soda', key_message: 'Cold refreshment', avoid: ['alcohol'] },
  prompt_template: 'A {{tone}} ad for {{brief.product}} in {{setting}}',
  video: { seconds: 4, size: '720x1280' },
};
