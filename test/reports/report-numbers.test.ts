/**
 * The report's numbers against values computed independently of the engine: mpmath at 50
 * digits (test/reports/reference.py), closed forms derived by hand, and Newcombe's published
 * Wilson intervals. Metrics go in through the API split over dates and platforms, so the
 * report's own aggregation is checked along the way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/reports/schemas.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { campaignWithVariants, getReport, postMetrics } from './fixtures.ts';
import { expectRel } from './stats/helpers.ts';

let t: TestApp;
let auth: string;

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('numbers-co');
});
afterAll(() => t.close());

const Z_95 = 1.95996398454005;

/** The textbook Wilson formula (not the engine's cancellation-free form). */
function textbookWilson(x: number, n: number, Z = Z_95): [number, number] {
  const p = x / n;
  const centre = p + (Z * Z) / (2 * n);
  const half = Z * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  const d = 1 + (Z * Z) / n;
  return [(centre - half) / d, (centre + half) / d];
}

/**
 * A variant's counts spread over three dates, as an ad platform reports them. One platform, so
 * the model has no strata and the mpmath fits (which have none) apply.
 */
function spread(variantId: string, clicks: number, impressions: number) {
  const c1 = Math.floor(clicks / 2);
  const i1 = Math.floor(impressions / 2);
  const c2 = Math.floor((clicks - c1) / 3);
  const i2 = Math.floor((impressions - i1) / 3);
  return [
    { variant_id: variantId, date: '2025-01-01', impressions: i1, clicks: c1 },
    { variant_id: variantId, date: '2025-01-02', impressions: i2, clicks: c2 },
    {
      variant_id: variantId,
      date: '2025-01-03',
      impressions: impressions - i1 - i2,
      clicks: clicks - c1 - c2,
    },
  ];
}

async function reportOf(campaignId: string) {
  const res = await getReport(t, auth, campaignId);
  expect(res.statusCode, res.body).toBe(200);
  return reportSchema.parse(res.json());
}

type Expected = [effect: number, lo: number, hi: number, p: number, pHolm: number];

function expectLevel(
  level: { effect: number | null; effect_ci: [number, number] | null } & Record<string, unknown>,
  [effect, lo, hi, p, pHolm]: Expected,
) {
  expectRel(level.effect, effect, 1e-8);
  expectRel(level.effect_ci![0], lo, 1e-8);
  expectRel(level.effect_ci![1], hi, 1e-8);
  expectRel(level.p_value as number, p, 1e-7);
  expectRel(level.p_adjusted as number, pHolm, 1e-7);
  expect(level.verdict === 'conclusive').toBe(!(lo <= 1 && 1 <= hi));
}

describe('a 2×2 factorial with known counts', () => {
  const counts: [string, string, number, number][] = [
    ['calm', 'paris', 30, 1000],
    ['bold', 'paris', 45, 1100],
    ['calm', 'rome', 52, 950],
    ['bold', 'rome', 60, 1020],
  ];
  let report: Awaited<ReturnType<typeof reportOf>>;

  beforeAll(async () => {
    const c = await campaignWithVariants(
      t,
      auth,
      { tone: ['calm', 'bold'], city: ['paris', 'rome'] },
      counts.map(([tone, city]) => ({ tone, city })),
    );
    const rows = counts.flatMap(([tone, city, x, n]) => spread(c.variant(tone, city), x, n));
    expect((await postMetrics(t, auth, rows)).statusCode).toBe(200);
    report = await reportOf(c.campaignId);
  });

  it('matches the mpmath odds ratios; t(1) tests and Holm-level intervals from scipy', () => {
    const [tone, city] = report.by_dimension;
    expect(tone).toMatchObject({ dimension: 'tone', reference_level: 'calm' });
    expect(tone!.levels[0]).toMatchObject({ level: 'calm', reference: true, effect: 1 });
    // Odds ratios: reference.py "2x2". Pearson X² over the 4 variants is 0.629 on 1 df, so the
    // scale is max(1, 0.629) = 1 and tests use t(1); Holm is over both levels of the report,
    // and neither is rejected, so both intervals are at Bonferroni's 97.5%
    // (reference_dispersion.py).
    expect(report.model.dispersion).toMatchObject({ residual_df: 1, variants: 4, scale: 1 });
    expectRel(report.model.dispersion!.phi, 0.6294313192876446, 1e-9);
    expectLevel(
      tone!.levels[1]!,
      [1.19107735105884, 0.0255003543538918, 55.6331585246704, 0.45353043, 0.45353043],
    );
    expectLevel(
      city!.levels[1]!,
      [1.62952837682475, 0.0334744684953963, 79.3250154589399, 0.19289563, 0.38579125],
    );
    expect(city!.levels[1]!.interval_level).toBeCloseTo(0.975, 12);
    // One residual df: the t(1) interval is far too wide to call anything.
    expect(tone!.levels[1]!.verdict).toBe('inconclusive');
    expect(city!.levels[1]!.verdict).toBe('inconclusive');
  });

  it('pools each level and gives its Wilson interval at t(1) on the dispersion scale', () => {
    const rome = report.by_dimension[1]!.levels[1]!;
    expect(rome).toMatchObject({ variants: 2, impressions: 1970, clicks: 112 });
    expectRel(rome.ctr, 112 / 1970, 1e-15);
    // Scale 1 estimated on 1 residual df: Wilson with z = t(1)'s 97.5% point, tan(0.475π).
    const [lo, hi] = textbookWilson(112, 1970, Math.tan(0.475 * Math.PI));
    expectRel(rome.ctr_ci![0], lo, 1e-12);
    expectRel(rome.ctr_ci![1], hi, 1e-12);
    expect(report.summary).toMatchObject({ impressions: 4070, clicks: 187, variants: 4 });
  });

  it("widens the campaign summary's CTR interval as a level's: t(1) on the dispersion scale", () => {
    expect(report.model.rate_scales.ctr).toEqual({ scale: 1, residual_df: 1 });
    const [lo, hi] = textbookWilson(187, 4070, Math.tan(0.475 * Math.PI));
    expectRel(report.summary.ctr_ci![0], lo, 1e-12);
    expectRel(report.summary.ctr_ci![1], hi, 1e-12);
  });

  it('says which model it fitted, on how many rows', () => {
    expect(report.model).toMatchObject({
      fitted: true,
      formula: 'clicks / impressions ~ tone + city',
      family: 'binomial',
      link: 'logit',
      rows: 4,
      parameters: 3,
      residual_df: 1,
      converged: true,
    });
    expect(report.model.description).toMatch(/fitted on 4 variants/);
  });
});

describe('a balanced 3^4 design: the L9 orthogonal array', () => {
  const L9 = [
    [0, 0, 0, 0],
    [0, 1, 1, 1],
    [0, 2, 2, 2],
    [1, 0, 1, 2],
    [1, 1, 2, 0],
    [1, 2, 0, 1],
    [2, 0, 2, 1],
    [2, 1, 0, 2],
    [2, 2, 1, 0],
  ];
  const clicks = [400, 430, 380, 520, 560, 540, 410, 395, 450];
  const levels = {
    setting: ['beach', 'city', 'desert'],
    tone: ['calm', 'bold', 'witty'],
    city: ['paris', 'rome', 'oslo'],
    partner: ['acme', 'globex', 'initech'],
  };
  const dims = Object.keys(levels) as (keyof typeof levels)[];
  let report: Awaited<ReturnType<typeof reportOf>>;

  beforeAll(async () => {
    const combos = L9.map((row) =>
      Object.fromEntries(dims.map((d, i) => [d, levels[d][row[i]!]!])),
    );
    const c = await campaignWithVariants(t, auth, levels, combos);
    const rows = L9.flatMap((row, k) =>
      spread(c.variant(...dims.map((d, i) => levels[d][row[i]!]!)), clicks[k]!, 20_000),
    );
    expect((await postMetrics(t, auth, rows)).statusCode).toBe(200);
    report = await reportOf(c.campaignId);
  });

  it('matches the mpmath odds ratios and gives no test on a saturated design', () => {
    // reference.py "L9 3^4", in dimension order, levels 1 and 2 of each. The binomial Wald
    // intervals there are no longer shown: nine parameters on nine variants leave no df to
    // measure the variation between variants, so there is no interval, no p and no verdict.
    const expected: Expected[][] = [
      [
        [
          1.34936770766584, 1.25134690673778, 1.45506669708252, 6.85142526291369e-15,
          1.37028505258274e-14,
        ],
        [
          1.03775083803339, 0.958061834188954, 1.1240681586598, 0.363350300366131,
          0.363350300366131,
        ],
      ],
      [
        [
          1.03803175115061, 0.961313365553087, 1.1208727091575, 0.340683450022771,
          0.681366900045542,
        ],
        [
          1.02756943859649, 0.951458727751353, 1.10976852735692, 0.488524069603168,
          0.681366900045542,
        ],
      ],
      [
        [
          1.05768795853809, 0.979928097062921, 1.14161826871737, 0.149997826095193,
          0.299995652190386,
        ],
        [
          1.00773628432957, 0.932650924992657, 1.08886657541498, 0.845337535514187,
          0.845337535514187,
        ],
      ],
      [
        [
          0.980630760340587, 0.909122310367537, 1.05776382029101, 0.61264332686604,
          0.61264332686604,
        ],
        [
          0.916479169507469, 0.848534442387641, 0.989864437061221, 0.0264748043331471,
          0.0529496086662942,
        ],
      ],
    ];
    report.by_dimension.forEach((dim, d) => {
      expect(dim.dimension).toBe(dims[d]);
      expect(dim.reference_level).toBe(levels[dims[d]!][0]);
      for (const l of [1, 2]) {
        expectRel(dim.levels[l]!.effect, expected[d]![l - 1]![0], 1e-8);
        expect(dim.levels[l]).toMatchObject({ effect_ci: null, p_value: null, p_adjusted: null });
      }
    });
    expect(report.model).toMatchObject({
      conclusive_possible: false,
      dispersion: { residual_df: 0, phi: null, scale: null },
    });
  });

  it('equals the hand-derived closed form of the saturated orthogonal design', () => {
    // Nine parameters on nine rows: fitted = observed, and because the array is orthogonal each
    // log odds ratio is the mean logit at that level minus the mean logit at the reference.
    const logit = clicks.map((x) => Math.log(x / (20_000 - x)));
    const meanAt = (d: number, l: number) => {
      const at = L9.map((row, k) => (row[d] === l ? logit[k]! : null)).filter((v) => v !== null);
      return at.reduce((a, b) => a + b, 0) / at.length;
    };
    report.by_dimension.forEach((dim, d) => {
      for (const l of [1, 2]) {
        expectRel(Math.log(dim.levels[l]!.effect!), meanAt(d, l) - meanAt(d, 0), 1e-9);
      }
    });
    expect(report.model).toMatchObject({ rows: 9, parameters: 9, residual_df: 0 });
  });

  it('calls nothing conclusive without residual df, and says so', () => {
    for (const dim of report.by_dimension) {
      expect(dim.levels.map((l) => l.verdict)).toEqual([
        'reference',
        'inconclusive',
        'inconclusive',
      ]);
      expect(dim.levels[1]!.note).toMatch(/no residual degrees of freedom/);
      expect(dim.summary).toMatch(/^No verdict: no residual degrees of freedom/);
    }
    expect(report.by_dimension[0]!.levels[0]!.note).toMatch(/reference level/);
  });
});

describe("Wilson intervals: Newcombe's (1998) examples", () => {
  // Table I, method 3, to 4 dp; 17 digits: roots of the score equation (stats/reference.py).
  const cases: [string, number, number, [number, number]][] = [
    ['a', 81, 263, [0.255288519878274, 0.3662095769828]],
    ['b', 15, 148, [0.0623863995307363, 0.160487241723308]],
    ['c', 0, 20, [0, 0.161125158052819]],
    ['d', 1, 29, [0.00611321429276266, 0.171755218793203]],
    ['e', 29, 29, [0.883030201500259, 1]],
  ];
  const published = [
    [0.2553, 0.3662],
    [0.0624, 0.1605],
    [0, 0.1611],
    [0.0061, 0.1718],
    [0.883, 1],
  ];
  let report: Awaited<ReturnType<typeof reportOf>>;
  let ids: string[];

  beforeAll(async () => {
    const c = await campaignWithVariants(
      t,
      auth,
      { tone: cases.map(([k]) => k) },
      cases.map(([k]) => ({ tone: k })),
    );
    ids = cases.map(([k]) => c.variant(k));
    const rows = cases.flatMap(([, x, n], i) => spread(ids[i]!, x, n));
    expect((await postMetrics(t, auth, rows)).statusCode).toBe(200);
    report = await reportOf(c.campaignId);
  });

  it('gives each variant its Wilson interval (4 dp published, 1e-12 exact)', () => {
    cases.forEach(([, x, n, exact], i) => {
      const v = report.variants.find((r) => r.id === ids[i])!;
      expect(v).toMatchObject({ clicks: x, impressions: n });
      expect(v.ctr_ci![0]).toBeCloseTo(published[i]![0]!, 4);
      expect(v.ctr_ci![1]).toBeCloseTo(published[i]![1]!, 4);
      expectRel(v.ctr_ci![0], exact[0], 1e-12);
      expectRel(v.ctr_ci![1], exact[1], 1e-12);
    });
  });

  it('says why small or separated levels get no verdict', () => {
    const [tone] = report.by_dimension;
    // Every level is under 1,000 impressions; c (0%) and e (100%) are separated as well.
    expect(tone!.levels[0]).toMatchObject({ verdict: 'reference' });
    expect(tone!.levels[0]!.note).toMatch(/reference level; below the minimum/);
    for (const level of tone!.levels.slice(1)) expect(level.verdict).toBe('insufficient_data');
    expect(tone!.levels[1]!.note).toMatch(/below the minimum of 1000 impressions and 10 clicks/);
    expect(tone!.levels[2]!).toMatchObject({ effect: null, p_value: null });
    expect(tone!.levels[2]!.note).toMatch(/separation.*tends to 0/);
    expect(tone!.levels[4]!.note).toMatch(/separation.*tends to ∞/);
  });
});
