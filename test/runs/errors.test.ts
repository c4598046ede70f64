import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssetService } from '../../src/assets/service.ts';
import { createCampaignService } from '../../src/campaigns/service.ts';
import { createDatabase, isDatabaseUnavailable } from '../../src/db/client.ts';
import { ProblemError } from '../../src/http/problem.ts';
import { createMatrixService } from '../../src/matrices/service.ts';
import { createRunService } from '../../src/runs/service.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { setupCampaign } from '../helpers/scenario.ts';

// Errors keep their nature: only a matrix the tenant does not have is "does not belong"; a
// database out of reach is a 503 the client may retry. No mocks: the lost database is a real
// one, dropped.
let t: TestApp;
let auth: string;

beforeAll(async () => {
  t = await createTestApp();
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
    const t2 = await createTestApp();
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
