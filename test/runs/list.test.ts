import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun } from '../helpers/scenario.ts';

// Listing runs costs a fixed number of statements whatever the page size: one grouped count
// over the page, not one per run. Statements are counted on the app's own pool.
let t: TestApp;
let auth: string;

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('list');
});
afterAll(() => t.close());

const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { authorization: auth } });

/** Statements the app sends to Postgres while fn runs. */
async function statements(fn: () => Promise<unknown>) {
  const pool = t.infra.database.pool;
  const query = pool.query;
  let n = 0;
  pool.query = ((...args: Parameters<typeof query>) => {
    n++;
    return (query as (...a: unknown[]) => unknown).apply(pool, args);
  }) as typeof query;
  try {
    await fn();
  } finally {
    pool.query = query;
  }
  return n;
}

describe('GET /v1/campaigns/{id}/runs', () => {
  it('counts the variants of a whole page in one query, the same counts as each run', async () => {
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['a', 'b', 'c'], city: ['x', 'y', 'z'] },
    });
    const designs = [
      { type: 'full' },
      { type: 'sample', n: 2, seed: 1 },
      { type: 'sample', n: 5, seed: 2 },
      { type: 'explicit', combinations: [{ tone: 'a', city: 'x' }] },
      { type: 'pairwise' },
      { type: 'sample', n: 3, seed: 3 },
    ];
    for (const [i, design] of designs.entries())
      await startRun(t, auth, { ...s, key: `list-${i}`, design });
    // One run cancelled, so the counts differ by status and by run.
    const first = (await get(`/v1/campaigns/${s.campaignId}/runs?limit=1`)).json().data[0];
    await t.app.inject({
      method: 'POST',
      url: `/v1/runs/${first.id}/cancel`,
      headers: { authorization: auth },
      payload: {},
    });

    const url = (limit: number) => `/v1/campaigns/${s.campaignId}/runs?limit=${limit}`;
    await get(url(6));
    const one = await statements(() => get(url(1)));
    const six = await statements(() => get(url(6)));
    expect(one).toBeGreaterThan(1);
    expect(six).toBe(one);

    const page = (await get(url(6))).json().data as { id: string }[];
    expect(page).toHaveLength(6);
    // The detail alone adds `workers` (a Redis read per run that a list would pay 200 times).
    for (const run of page) {
      const { workers: _, ...detail } = (await get(`/v1/runs/${run.id}`)).json();
      expect(run).toEqual(detail);
    }
    expect(page.map((r) => (r as unknown as { variant_count: number }).variant_count)).toEqual([
      9, 2, 5, 1, 9, 3,
    ]);
  });
});
