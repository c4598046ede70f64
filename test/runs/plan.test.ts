import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign } from '../helpers/scenario.ts';

// The preview and the run share one plan: what earlier runs spent or reserved counts in both,
// and variants the campaign already has are free in both. No workers: variants stay queued,
// so their cost stays reserved. openai 4 s at 720x1280 is $0.40 a variant.
let t: TestApp;
let auth: string;

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('plan');
});
afterAll(() => t.close());

const levels = { tone: ['a', 'b', 'c', 'd'], city: ['w', 'x', 'y', 'z'] };
const combos = (pairs: [string, string][]) => ({
  type: 'explicit',
  combinations: pairs.map(([tone, city]) => ({ tone, city })),
});
// The first run: 10 of the 16 combinations, $4.00 of a $5.00 budget.
const first = combos([
  ['a', 'w'],
  ['a', 'x'],
  ['a', 'y'],
  ['a', 'z'],
  ['b', 'w'],
  ['b', 'x'],
  ['b', 'y'],
  ['b', 'z'],
  ['c', 'w'],
  ['c', 'x'],
]);

const preview = (matrixId: string, design: unknown) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/matrices/${matrixId}/preview`,
    headers: { authorization: auth },
    payload: { design, sample_size: 0 },
  });
const run = (s: { campaignId: string; matrixId: string }, key: string, design: unknown) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${s.campaignId}/runs`,
    headers: { authorization: auth, 'idempotency-key': key },
    payload: { matrix_id: s.matrixId, design },
  });

async function afterFirstRun() {
  const s = await setupCampaign(t, auth, { levels, budget_usd: 5 });
  const quote = await preview(s.matrixId, first);
  expect(quote.json()).toMatchObject({
    variant_count: 10,
    new_variant_count: 10,
    reused_variant_count: 0,
    estimated_cost_usd: 4,
    budget: { budget_usd: 5, committed_usd: 0, remaining_usd: 5, fits: true, detail: null },
  });
  const res = await run(s, `first-${s.campaignId}`, first);
  expect(res.statusCode).toBe(202);
  return s;
}

describe('the plan shared by preview and run', () => {
  it('counts what earlier runs reserved: a preview that does not fit is a run that is refused', async () => {
    const s = await afterFirstRun();
    // Three new variants, $1.20: within the budget, over what the first run left ($1.00).
    const design = combos([
      ['d', 'w'],
      ['d', 'x'],
      ['d', 'y'],
    ]);
    const quote = await preview(s.matrixId, design);
    expect(quote.statusCode).toBe(200);
    const detail = "The design costs $1.20, $0.20 over the campaign's remaining budget of $1.00.";
    expect(quote.json()).toMatchObject({
      variant_count: 3,
      new_variant_count: 3,
      reused_variant_count: 0,
      estimated_cost_usd: 1.2,
      budget: { budget_usd: 5, committed_usd: 4, remaining_usd: 1, fits: false, detail },
    });
    const refused = await run(s, `second-${s.campaignId}`, design);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().detail).toBe(detail);
    const { rows } = await t.testDb.pool.query(
      'SELECT count(*)::int AS n FROM variants WHERE campaign_id = $1',
      [s.campaignId],
    );
    expect(rows[0].n).toBe(10);
  });

  it('counts reused variants as free: a preview that fits is a run that is accepted at that price', async () => {
    const s = await afterFirstRun();
    // The first run's ten again plus two new: $4.80 in all, $0.80 new, within the $1.00 left.
    const design = combos([
      ...first.combinations.map((c) => [c.tone, c.city] as [string, string]),
      ['d', 'w'],
      ['d', 'x'],
    ]);
    const quote = await preview(s.matrixId, design);
    expect(quote.json()).toMatchObject({
      variant_count: 12,
      new_variant_count: 2,
      reused_variant_count: 10,
      rerendered_variant_count: 0,
      estimated_cost_usd: 0.8,
      budget: { committed_usd: 4, remaining_usd: 1, fits: true, detail: null },
    });
    const accepted = await run(s, `second-${s.campaignId}`, design);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({
      variant_count: 12,
      new_variant_count: 2,
      reused_variant_count: 10,
      estimated_cost_usd: 0.8,
    });
    // And the next quote sees this run's reservation too.
    expect((await preview(s.matrixId, first)).json()).toMatchObject({
      new_variant_count: 0,
      reused_variant_count: 10,
      estimated_cost_usd: 0,
      budget: { committed_usd: 4.8, remaining_usd: 0.2, fits: true },
    });
  });

  it('prices failed and cancelled variants again, in the quote as in the run', async () => {
    const s = await afterFirstRun();
    const [{ id }] = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/campaigns/${s.campaignId}/runs`,
        headers: { authorization: auth },
      })
    ).json().data;
    const cancel = await t.app.inject({
      method: 'POST',
      url: `/v1/runs/${id}/cancel`,
      headers: { authorization: auth },
      payload: {},
    });
    expect(cancel.statusCode).toBe(200);
    const quote = await preview(s.matrixId, first);
    expect(quote.json()).toMatchObject({
      new_variant_count: 0,
      reused_variant_count: 0,
      rerendered_variant_count: 10,
      estimated_cost_usd: 4,
      budget: { committed_usd: 0, fits: true },
    });
    const again = await run(s, `again-${s.campaignId}`, first);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ rerendered_variant_count: 10, estimated_cost_usd: 4 });
  });
});
