import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeVideoServer } from '../fake-provider/index.ts';
import type { TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { type SpotStack, startSpotStack } from './stack.ts';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let stack: SpotStack;

beforeAll(async () => {
  stack = await startSpotStack('spots-co');
  ({ t, fake, auth } = stack);
});
afterAll(() => stack.close());
beforeEach(() => fake.reset());

/** The opening depends on setting and tone, the middle on the city, the end on nothing. */
const threeShots = (transition: unknown) => ({
  shots: [
    { key: 'opening', prompt_template: 'Opening: {{setting}}, {{tone}} mood', seconds: 4 },
    // Multi-line: the gateway receives it with CRLF (multipart), recovery must still match.
    { key: 'street', prompt_template: 'Street in {{city}}\nhandheld', seconds: 4 },
    { key: 'pack', prompt_template: 'Pack shot of {{brief.product}}', seconds: 4 },
  ],
  transition,
});

const shotRows = async (campaignId: string) =>
  (
    await t.testDb.pool.query(
      'SELECT id, shot_key, prompt, status, attempts, actual_cost_usd FROM shots WHERE campaign_id = $1 ORDER BY id',
      [campaignId],
    )
  ).rows as {
    id: string;
    shot_key: string;
    prompt: string;
    status: string;
    attempts: number;
    actual_cost_usd: string;
  }[];

const preview = async (matrixId: string) => {
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/matrices/${matrixId}/preview`,
    headers: { authorization: auth },
    payload: { design: { type: 'full' } },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

describe('spots: shots rendered once per campaign, assembled per variant', () => {
  it('renders each distinct shot exactly once across two runs; fades shorten the spot', {
    timeout: 240_000,
  }, async () => {
    const levels = { setting: ['beach', 'roof'], tone: ['calm', 'bold'], city: ['oslo', 'rome'] };
    const s = await setupCampaign(t, auth, {
      levels,
      template: 'Ad: {{setting}} {{tone}} {{city}}',
      spot: threeShots({ type: 'fade', seconds: 0.5 }),
    });
    const run = await startRun(t, auth, { ...s, key: 'spot-1' });
    expect(run.variant_count).toBe(8);
    const done = await waitForRun(t, auth, run.id, 'completed', 180_000);
    expect(done.counts.ready).toBe(8);
    // 4 openings (setting x tone) + 2 streets (city) + 1 pack shot, not 8 x 3 = 24.
    expect(fake.createCalls).toHaveLength(7);
    // The run paid for its 7 shots, its 8 variants for nothing more.
    const price = (await shotRows(s.campaignId)).map((r) => Number(r.actual_cost_usd));
    expect(done.cost.actual_usd).toBeCloseTo(
      price.reduce((a, b) => a + b, 0),
      6,
    );
    expect(done.cost.actual_usd).toBeCloseTo(done.cost.estimated_usd, 6);
    const perPrompt = new Map<string, number>();
    for (const c of fake.createCalls) perPrompt.set(c.prompt!, (perPrompt.get(c.prompt!) ?? 0) + 1);
    expect([...perPrompt.values()].every((n) => n === 1)).toBe(true);
    const variants = await variantsOf(t, run.id);
    // 3 x 4 s less two 0.5 s fades, within a frame at 30 fps.
    for (const v of variants)
      expect(Math.abs(Number(v.duration_s) - 11)).toBeLessThanOrEqual(1 / 30);
    expect(variants.every((v) => v.width === 720 && v.height === 1280)).toBe(true);

    // A second run adds a tone: only its two openings are new; streets and pack are reused.
    const matrix = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${s.campaignId}/matrices`,
      headers: { authorization: auth },
      payload: {
        dimensions: Object.entries({ ...levels, tone: ['calm', 'bold', 'wry'] }).map(
          ([key, ls]) => ({ key, levels: ls.map((l) => ({ key: l })) }),
        ),
      },
    });
    expect(matrix.statusCode).toBe(201);
    // The quote counts what the second run adds: two openings, 8 s, against 12 variants x 12 s.
    const quote = await preview(matrix.json().id);
    expect(quote.shots).toEqual({ unique: 9, render_seconds: 8, naive_render_seconds: 144 });
    expect(quote.estimated_cost_usd).toBeCloseTo(2 * quote.unit_cost_usd, 6);
    const second = await startRun(t, auth, {
      campaignId: s.campaignId,
      matrixId: matrix.json().id,
      key: 'spot-2',
    });
    expect(second.variant_count).toBe(12);
    const again = await waitForRun(t, auth, second.id, 'completed', 180_000);
    expect(again.counts.ready).toBe(12);
    // Only its two new openings are this run's to pay.
    expect(again.cost.actual_usd).toBeCloseTo(2 * quote.unit_cost_usd, 6);
    expect(fake.createCalls).toHaveLength(9);
    const shots = await shotRows(s.campaignId);
    expect(shots).toHaveLength(9);
    expect(shots.every((r) => r.status === 'ready' && r.attempts === 1)).toBe(true);
  });

  it('cuts shots end to end: the spot lasts the sum of its shots', {
    timeout: 120_000,
  }, async () => {
    const s = await setupCampaign(t, auth, {
      levels: { setting: ['dock'], tone: ['warm'], city: ['kyiv', 'lima'] },
      template: 'Ad: {{setting}} {{tone}} {{city}}',
      spot: threeShots({ type: 'cut', seconds: 0 }),
    });
    const run = await startRun(t, auth, { ...s, key: 'spot-cut' });
    const done = await waitForRun(t, auth, run.id, 'completed', 90_000);
    expect(done.counts.ready).toBe(2);
    expect(fake.createCalls).toHaveLength(4);
    const variants = await variantsOf(t, run.id);
    for (const v of variants)
      expect(Math.abs(Number(v.duration_s) - 12)).toBeLessThanOrEqual(1 / 30);

    // Lineage: each variant lists its shots; the pack shot is one render shared by both.
    const get = (url: string, key = auth) =>
      t.app.inject({ method: 'GET', url, headers: { authorization: key } });
    const [first, second] = await Promise.all(
      variants.map(async (v) => (await get(`/v1/variants/${v.id}`)).json()),
    );
    expect(first.shots.map((x: { key: string }) => x.key)).toEqual(['opening', 'street', 'pack']);
    expect(first.shots.every((x: { provider_job_id: string }) => x.provider_job_id)).toBe(true);
    expect(first.shots.map((x: { reused: boolean }) => x.reused)).toEqual([false, false, false]);
    // The opening (setting x tone) and the pack shot were made for the first variant.
    expect(second.shots.map((x: { reused: boolean }) => x.reused)).toEqual([true, false, true]);
    expect(second.shots[2].id).toBe(first.shots[2].id);
    expect(first.shots[2]).toMatchObject({ provider: 'openai', cost_usd: expect.any(Number) });
    const shot = await get(`/v1/shots/${first.shots[2].id}?limit=1`);
    expect(shot.statusCode).toBe(200);
    expect(shot.json()).toMatchObject({ key: 'pack', status: 'ready', attempts: 1 });
    expect(shot.json().variants.data.map((v: { id: string }) => v.id)).toEqual([variants[0]!.id]);
    const rest = await get(
      `/v1/shots/${first.shots[2].id}?limit=1&cursor=${shot.json().variants.next_cursor}`,
    );
    expect(rest.json().variants.data.map((v: { id: string }) => v.id)).toEqual([variants[1]!.id]);
    const other = await t.key('spots-other-co');
    expect((await get(`/v1/shots/${first.shots[2].id}`, other)).statusCode).toBe(404);
  });
});

describe('a held shot', () => {
  it('fails its variants with shot_held until a person resubmits it; a run retry then assembles them', {
    timeout: 120_000,
  }, async () => {
    // The create is received, its answer lost, and the gateway lists it without its prompt.
    fake.when('Pack shot', { outcome: 'drop_connection', failTimes: 1, hidePrompt: true });
    const s = await setupCampaign(t, auth, {
      levels: { setting: ['hx'], tone: ['ht'], city: ['c1', 'c2'] },
      template: 'Ad: {{setting}} {{tone}} {{city}}',
      spot: threeShots({ type: 'cut', seconds: 0 }),
    });
    const run = await startRun(t, auth, { ...s, key: 'spot-held' });
    const first = await waitForRun(t, auth, run.id, 'completed', 60_000);
    expect(first.counts.failed).toBe(2);
    const variants = await variantsOf(t, run.id);
    expect(variants.map((v) => v.error_code)).toEqual(['shot_held', 'shot_held']);
    const pack = (await shotRows(s.campaignId)).find((r) => r.shot_key === 'pack')!;
    expect(pack.status).toBe('held');
    expect(fake.createCount(pack.prompt)).toBe(1);
    const api = (url: string, payload?: object) =>
      t.app.inject({ method: 'POST', url, headers: { authorization: auth }, payload });
    expect((await api(`/v1/shots/${pack.id}/resubmit`, {})).statusCode).toBe(422);
    const ok = await api(`/v1/shots/${pack.id}/resubmit`, {
      accept_possible_duplicate_charge: true,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().status).toBe('queued');
    const retry = await api(`/v1/runs/${run.id}/retry`);
    expect(retry.json().retried).toBe(2);
    const done = await waitForRun(t, auth, run.id, 'completed', 60_000);
    expect(done.counts).toMatchObject({ ready: 2, failed: 0 });
    // Only the held shot was created again, as accepted; the others stayed paid once.
    expect(fake.createCount(pack.prompt)).toBe(2);
    expect(fake.createCalls).toHaveLength(5);
    const again = await api(`/v1/shots/${pack.id}/resubmit`, {
      accept_possible_duplicate_charge: true,
    });
    expect(again.statusCode).toBe(409);
  });
});

describe('spot quotes price the unique shots', () => {
  it('reports unique against naive render seconds; the budget checks the unique cost', async () => {
    const levels = { setting: ['a', 'b'], tone: ['c', 'd'], city: ['e', 'f', 'g'] };
    const spot = threeShots({ type: 'cut', seconds: 0 });
    // 4 openings + 3 streets + 1 pack shot of 4 s each, for 12 variants of 3 shots.
    const unique = 8;
    const plain = await setupCampaign(t, auth, {
      levels,
      template: 'Ad {{setting}} {{tone}} {{city}}',
    });
    const unit = (await preview(plain.matrixId)).unit_cost_usd as number;
    const uniqueCost = unique * unit;
    const fits = await setupCampaign(t, auth, {
      levels,
      template: 'Ad {{setting}} {{tone}} {{city}}',
      spot,
      budget_usd: uniqueCost + 0.01,
    });
    const quote = await preview(fits.matrixId);
    expect(quote.variant_count).toBe(12);
    expect(quote.shots).toEqual({ unique, render_seconds: 32, naive_render_seconds: 144 });
    expect(quote.estimated_cost_usd).toBeCloseTo(uniqueCost, 6);
    // Under the naive price (36 renders), over the unique one.
    expect(quote.budget.fits).toBe(true);
    const tight = await setupCampaign(t, auth, {
      levels,
      template: 'Ad {{setting}} {{tone}} {{city}}',
      spot,
      budget_usd: uniqueCost - 0.01,
    });
    expect((await preview(tight.matrixId)).budget.fits).toBe(false);
    const refused = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${tight.campaignId}/runs`,
      headers: { authorization: auth, 'idempotency-key': 'tight' },
      payload: { matrix_id: tight.matrixId, design: { type: 'full' } },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors[0].path).toBe('design');
  });
});

describe('spot validation names the field', () => {
  const post = (payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: auth },
      payload,
    });
  const base = {
    name: 'Spot',
    brief: { product: 'Fizz', key_message: 'Cold' },
    prompt_template: 'Ad {{tone}}',
    video: { provider: 'openai', seconds: 4, size: '720x1280' },
  };

  it("refuses seconds the shot's model cannot make, listing the allowed ones", async () => {
    const res = await post({
      ...base,
      spot: {
        shots: [{ key: 'a', prompt_template: 'x', seconds: 5 }],
        transition: { type: 'cut' },
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const error = res.json().errors[0];
    expect(error.path).toBe('spot.shots[0].seconds');
    expect(error.message).toMatch(/renders 4, 8, 12 s, not 5/);
  });

  it('refuses a fade as long as a shot, and an audio bed that is no audio asset of the tenant', async () => {
    const res = await post({
      ...base,
      spot: {
        shots: [{ key: 'a', prompt_template: 'x', seconds: 4 }],
        transition: { type: 'fade', seconds: 4 },
        audio: { asset_id: 'ast_01jbz7h1n3q4v5w6x7y8z9a0b1' },
      },
    });
    expect(res.statusCode).toBe(422);
    expect(
      res
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['spot.audio.asset_id', 'spot.transition.seconds']);
  });

  it('refuses a placeholder the matrix does not have, at matrix upload', async () => {
    const created = await post({
      ...base,
      spot: {
        shots: [
          { key: 'a', prompt_template: 'x {{tone}}', seconds: 4 },
          { key: 'b', prompt_template: 'y {{colour}}', seconds: 4 },
        ],
        transition: { type: 'cut' },
      },
    });
    expect(created.statusCode).toBe(201);
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${created.json().id}/matrices`,
      headers: { authorization: auth },
      payload: { dimensions: [{ key: 'tone', levels: [{ key: 'calm' }] }] },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].path).toBe('spot.shots[1].prompt_template');
    expect(res.json().errors[0].message).toMatch(/colour/);
  });
});
