import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssetService } from '../../src/assets/service.ts';
import { createCampaignService } from '../../src/campaigns/service.ts';
import { createDatabase, isDatabaseUnavailable } from '../../src/db/client.ts';
import { ProblemError } from '../../src/http/problem.ts';
import { createInfra } from '../../src/main/infra.ts';
import { createMatrixService } from '../../src/matrices/service.ts';
import { createRunService } from '../../src/runs/service.ts';
import { createTestApp, openaiApiOnly, type TestApp, testConfig, waitFor } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { setupCampaign } from '../helpers/scenario.ts';

// Errors keep their nature: only a matrix the tenant does not have is "does not belong"; a
// database out of reach is a 503 the client may retry. No mocks: the lost database is a real
// one, dropped.
let t: TestApp;
let auth: string;

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('errors');
});
afterAll(() => t.close());

const levels = { tone: ['a', 'b'], city: ['x', 'y'] };

describe('a run whose matrix cannot be looked up', () => {
  it('is 422 "does not belong" only when the matrix is not there', async () => {
    const s = await setupCampaign(t, auth, { levels });
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${s.campaignId}/runs`,
      headers: { authorization: auth, 'idempotency-key': 'unknown-matrix' },
      payload: { matrix_id: 'mtx_nope', design: { type: 'full' } },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toBe('The matrix does not belong to this campaign.');
  });

  it('keeps a lost database a lost database, not a 422', async () => {
    const s = await setupCampaign(t, auth, { levels });
    const { rows } = await t.testDb.pool.query('SELECT tenant_id FROM campaigns WHERE id = $1', [
      s.campaignId,
    ]);
    // The matrices are read from a database that has been dropped.
    const gone = await createTestDatabase();
    await gone.drop();
    const lost = createDatabase({ url: gone.url, max: 1 });
    try {
      const { catalog, media, storage } = t.infra;
      const campaigns = createCampaignService({
        db: t.infra.database.db,
        catalog,
        defaultProvider: t.config.DEFAULT_PROVIDER,
        ownedAssetIds: async () => new Set<string>(),
      });
      const matrices = createMatrixService({
        db: lost.db,
        campaigns,
        ownedAssetIds: createAssetService({ db: lost.db, media, storage }).ownedIds,
        catalog,
        config: {
          limits: {
            maxDimensions: 10,
            maxLevelsPerDimension: 10,
            maxConstraints: 10,
            maxFileBytes: 1024,
          },
          maxVariantsPerRun: 100,
          maxPromptChars: 2_000,
        },
      });
      const runs = createRunService({
        db: t.infra.database.db,
        pool: t.infra.database.pool,
        queues: t.infra.queues,
        campaigns,
        matrices,
        catalog,
        config: { maxVariantsPerRun: 100, maxPromptChars: 2_000 },
        onEnqueueError: () => {},
      });
      const err = await runs
        .create(
          rows[0].tenant_id,
          s.campaignId,
          { matrix_id: s.matrixId, design: { type: 'full' } },
          null,
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ProblemError);
      expect(isDatabaseUnavailable(err)).toBe(true);
    } finally {
      await lost.pool.end();
    }
  });
});

describe('a database out of reach', () => {
  it('answers 503 problem+json with Retry-After, not 500', async () => {
    const t2 = await createTestApp(openaiApiOnly);
    try {
      const key = await t2.key('outage');
      const s = await setupCampaign(t2, key, { levels });
      // Dropped under the app, its connections terminated.
      await t2.testDb.drop();
      for (const req of [
        { method: 'GET' as const, url: `/v1/campaigns/${s.campaignId}/runs` },
        {
          method: 'POST' as const,
          url: `/v1/campaigns/${s.campaignId}/runs`,
          headers: { 'idempotency-key': 'outage' },
          payload: { matrix_id: s.matrixId, design: { type: 'full' } },
        },
      ]) {
        const res = await t2.app.inject({
          ...req,
          headers: { authorization: key, ...req.headers },
        });
        expect(res.statusCode, `${req.method} ${res.body}`).toBe(503);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.json()).toMatchObject({
          status: 503,
          detail: 'The database is unavailable; retry shortly.',
        });
      }
    } finally {
      await t2.app.close();
      await t2.infra.close();
    }
  });

  it('tells lost connections from refused queries', () => {
    const coded = (code: string) => Object.assign(new Error('x'), { code });
    for (const code of ['57P01', '57P03', '08006', '08001', '3D000', 'ECONNREFUSED'])
      expect(isDatabaseUnavailable(new Error('Failed query', { cause: coded(code) })), code).toBe(
        true,
      );
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    for (const code of ['23505', '42P01', '22P02', '40001'])
      expect(isDatabaseUnavailable(coded(code)), code).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });
});

/** A pino logger writing into an array, as the process would write to stdout. */
function captured() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, destination), lines };
}

describe('connection errors', () => {
  it('fail the next query of a checked-out client, not the process', async () => {
    const applicationName = `checked-out-${Date.now()}`;
    const database = createDatabase({ url: t.testDb.url, max: 1, applicationName });
    const client = await database.pool.connect();
    try {
      // Held between two queries, as inside a transaction, when Postgres ends the session: the
      // pool does not listen on a client it has lent, and an unhandled 'error' ends the process.
      await client.query('BEGIN');
      await t.testDb.pool.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      // pg marks the client unusable when the error arrives (only its internals say so).
      await waitFor(() =>
        (client as unknown as { _queryable: boolean })._queryable ? undefined : true,
      );
      const err = await client.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isDatabaseUnavailable(err)).toBe(true);
      client.release(err as Error);
      // The pool drops it; the next checkout is a new connection.
      await expect(database.pool.query('SELECT 1 AS one')).resolves.toMatchObject({
        rows: [{ one: 1 }],
      });
    } finally {
      await database.pool.end();
    }
  });

  it('are logged for the pool once per outage, and its recovery', async () => {
    const { logger, lines } = captured();
    const applicationName = `pool-log-${Date.now()}`;
    const database = createDatabase({ url: t.testDb.url, max: 2, applicationName, logger });
    const terminate = () =>
      t.testDb.pool.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
    const errorLines = () => lines.filter((l) => l.msg.startsWith('postgres connection error'));
    try {
      // Two idle connections lost at once: one line, not two.
      await Promise.all([1, 2].map(() => database.pool.query('SELECT pg_sleep(0.05)')));
      expect(database.pool.idleCount).toBe(2);
      await terminate();
      await waitFor(() => (database.pool.totalCount === 0 ? true : undefined), {
        what: 'the pool to drop both connections',
      });
      expect(errorLines()).toHaveLength(1);
      expect(errorLines()[0]).toMatchObject({ level: 40, code: '57P01' });
      // The next checkout reconnects: said once, with the errors in between.
      await database.pool.query('SELECT 1');
      expect(lines.filter((l) => l.msg === 'postgres connection restored')).toEqual([
        expect.objectContaining({ level: 30, errors: 2 }),
      ]);
      // A new outage is a new line.
      await terminate();
      await waitFor(() => (errorLines().length === 2 ? true : undefined), {
        what: 'the second outage to be logged',
      });
    } finally {
      await database.pool.end();
    }
  });

  it('are logged for Redis once per outage, not once per reconnection attempt', async () => {
    const { logger, lines } = captured();
    // Nothing listens on port 1: every reconnection attempt fails.
    const config = testConfig({ DATABASE_URL: t.testDb.url, REDIS_URL: 'redis://127.0.0.1:1' });
    const infra = await createInfra(config, logger, 'api', { redisWaitMs: 0 });
    try {
      let attempts = 0;
      let queueErrors = 0;
      infra.redis.on('error', () => attempts++);
      // A queue on the same connection reports the same outage into the same line.
      infra.queues.get('render-local').on('error', () => queueErrors++);
      await waitFor(() => (attempts >= 3 && queueErrors >= 1 ? true : undefined), {
        what: 'three failed reconnection attempts, seen by the queue too',
      });
      const redisLines = lines.filter((l) => l.msg.startsWith('redis connection error'));
      expect(redisLines).toEqual([expect.objectContaining({ level: 40, code: 'ECONNREFUSED' })]);
    } finally {
      await infra.close();
    }
  });
});
