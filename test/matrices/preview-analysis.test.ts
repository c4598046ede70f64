import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let auth: string;

// scipy.stats t.ppf: the report's Holm over 8 levels at 5% (alpha/8, two-sided) and 80% power,
// on the 18 − 9 = 9 residual df of a balanced 18-run design for 3^4.
const T_HOLM8_9 = 3.546508498078632;
const T80_9 = 0.8834038596855346;

async function campaignWithMatrix(keys: string[], levels: number) {
  const campaign = await t.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: auth },
    payload: {
      ...campaignBody,
      prompt_template: `An ad for {{brief.product}}: ${keys.map((k) => `{{${k}}}`).join(', ')}`,
    },
  });
  expect(campaign.statusCode).toBe(201);
  const matrix = await t.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${campaign.json().id}/matrices`,
    headers: { authorization: auth },
    payload: {
      dimensions: keys.map((key) => ({
        key,
        levels: Array.from({ length: levels }, (_, i) => ({ key: `${key}${i}` })),
      })),
    },
  });
  expect(matrix.statusCode, matrix.body).toBe(201);
  return matrix.json().id as string;
}

const preview = (id: string, body: unknown) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/matrices/${id}/preview`,
    headers: { authorization: auth },
    payload: body as object,
  });

let small: string;
let wide: string;

beforeAll(async () => {
  t = await createTestApp({ MAX_VARIANTS_PER_RUN: '100' });
  auth = await t.key('preview-analysis-co');
  small = await campaignWithMatrix(['tone', 'setting', 'city', 'partner'], 3);
  wide = await campaignWithMatrix(
    Array.from({ length: 12 }, (_, i) => `d${i}`),
    3,
  );
});
afterAll(() => t.close());

describe('preview: designs that can be analysed', () => {
  it('reports an orthogonal array as estimable, orthogonal, D-efficiency 100', async () => {
    const res = await preview(small, { design: { type: 'balanced', n: 9 } });
    expect(res.statusCode).toBe(200);
    expect(res.json().design_stats).toEqual({
      pair_coverage: 1,
      level_balance: 1,
      max_abs_correlation: 0,
      parameters: 9,
      rank: 9,
      estimable: true,
      d_efficiency: 100,
      orthogonal: true,
      aliased_effects: [],
      smallest_estimable_design: null,
      warning: null,
    });
  });

  it('says pairwise 3^12 (the dimension limit) cannot be analysed, names the aliased levels and a balanced design that can', async () => {
    const res = await preview(wide, { design: { type: 'pairwise' } });
    expect(res.statusCode).toBe(200);
    const stats = res.json().design_stats;
    expect(res.json().variant_count).toBe(15);
    expect(stats).toMatchObject({
      parameters: 25,
      rank: 15,
      estimable: false,
      d_efficiency: 0,
      orthogonal: false,
      smallest_estimable_design: { type: 'balanced', n: 25 },
    });
    expect(stats.max_abs_correlation).toBeGreaterThan(0);
    expect(stats.aliased_effects).toHaveLength(24);
    expect(stats.aliased_effects).toContain('d0=d01');
    expect(stats.aliased_effects).not.toContain('d0=d00');
    expect(stats.warning).toContain('15 variants cannot estimate the 25 parameters');
    const suggested = await preview(wide, { design: stats.smallest_estimable_design });
    expect(suggested.json().design_stats).toMatchObject({ estimable: true, aliased_effects: [] });
  });
});

describe('preview: power before spend', () => {
  it('returns the MDE per dimension and level, and impressions for a target', async () => {
    const res = await preview(small, {
      design: { type: 'balanced', n: 18 },
      power: { baseline_ctr: 0.01, impressions_per_variant: 200_000, target_mde: 0.15 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().design_stats.orthogonal).toBe(true);
    const power = res.json().power;
    expect(power).toMatchObject({ tests: 8, residual_df: 9 });
    // Six variants per level of an orthogonal array: Var = (1/(m·p·q) + τ²)·2·3/18 with the
    // default τ = 0.05.
    const se = Math.sqrt((1 / (200_000 * 0.01 * 0.99) + 0.05 ** 2) * (1 / 3));
    const odds = (0.01 / 0.99) * Math.exp((T_HOLM8_9 + T80_9) * se);
    const mde = odds / (1 + odds) / 0.01 - 1;
    expect(power).toMatchObject({
      baseline_ctr: 0.01,
      impressions_per_variant: 200_000,
      confidence: 0.95,
      power: 0.8,
      variant_sd: 0.05,
      target_mde: 0.15,
    });
    for (const key of ['tone', 'setting', 'city', 'partner'])
      expect(power.mde[key]).toBeCloseTo(mde, 12);
    expect(power.dimensions[0]).toMatchObject({
      dimension: 'tone',
      reference: 'tone0',
      levels: [
        { level: 'tone1', variants: 6 },
        { level: 'tone2', variants: 6 },
      ],
    });
    // m solves (δ/z)²/h = 1/(m·p·q) + τ² for δ = logit(0.0115) − logit(0.01).
    const delta = Math.log(0.0115 / 0.9885) - Math.log(0.01 / 0.99);
    const m = 1 / (0.01 * 0.99 * ((delta / (T_HOLM8_9 + T80_9)) ** 2 / (1 / 3) - 0.05 ** 2));
    expect(power.impressions_needed_per_variant.tone).toBe(Math.ceil(m));
  });

  it('takes a media budget and CPM instead of impressions', async () => {
    const res = await preview(small, {
      design: { type: 'balanced', n: 9 },
      power: { baseline_ctr: 0.02, media_budget_usd: 900, cpm_usd: 5, variant_sd: 0 },
    });
    expect(res.statusCode).toBe(200);
    // $900 at $5 CPM = 180,000 impressions over 9 variants.
    expect(res.json().power.impressions_per_variant).toBe(20_000);
  });

  it('reports null MDEs for a design that cannot estimate them', async () => {
    const res = await preview(wide, {
      design: { type: 'pairwise' },
      power: { baseline_ctr: 0.01, impressions_per_variant: 1e6 },
    });
    expect(res.json().power.mde.d0).toBeNull();
  });

  it.each([
    [{ baseline_ctr: 1.5, impressions_per_variant: 10 }, 'power.baseline_ctr'],
    [{ baseline_ctr: 0.01 }, 'power.impressions_per_variant'],
    [{ baseline_ctr: 0.01, media_budget_usd: 100 }, 'power.cpm_usd'],
    [{ baseline_ctr: 0.01, impressions_per_variant: 10, cpm_usd: 3 }, 'power.cpm_usd'],
    [{ baseline_ctr: 0.01, impressions_per_variant: 10, confidence: 1 }, 'power.confidence'],
    [{ baseline_ctr: 0.01, impressions_per_variant: 10, variant_sd: -1 }, 'power.variant_sd'],
    [{ baseline_ctr: 0.6, impressions_per_variant: 10, target_mde: 1 }, 'power.target_mde'],
  ])('refuses bad power input %j naming %s', async (power, path) => {
    const res = await preview(small, { design: { type: 'balanced', n: 9 }, power });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
  });
});
