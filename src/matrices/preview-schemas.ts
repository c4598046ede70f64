import { z } from 'zod';
import { designSchema } from './schemas.ts';

// The preview of a design before a run: the power request it may carry and all it answers (counts,
// cost, budget, design statistics, power). The matrix and the design themselves are in schemas.ts.

const powerInputSchema = z
  .object({
    baseline_ctr: z
      .number()
      .gt(0)
      .lt(1)
      .describe('Expected click-through rate of a variant, e.g. 0.012 for 1.2%'),
    impressions_per_variant: z
      .number()
      .int()
      .min(1)
      .max(1e12)
      .optional()
      .describe('Impressions each variant will get; or give media_budget_usd and cpm_usd'),
    media_budget_usd: z
      .number()
      .positive()
      .max(1e12)
      .optional()
      .describe('Media spend for the whole run, spread evenly over its variants'),
    cpm_usd: z.number().positive().max(1e6).optional().describe('Cost per 1,000 impressions'),
    confidence: z
      .number()
      .min(0.5)
      .max(0.999)
      .default(0.95)
      .describe('Confidence of the two-sided test (1 − alpha)'),
    power: z.number().min(0.5).max(0.999).default(0.8).describe('Chance to detect the MDE'),
    variant_sd: z
      .number()
      .min(0)
      .max(2)
      .default(0.05)
      .describe(
        'Spread of true CTR between variants beyond their levels (SD on the log-odds scale); 0 assumes pure binomial noise',
      ),
    target_mde: z
      .number()
      .gt(0)
      .max(100)
      .default(0.1)
      .describe('Relative CTR change to size impressions for: 0.1 = +10%'),
  })
  .superRefine((v, ctx) => {
    const budget = v.media_budget_usd !== undefined || v.cpm_usd !== undefined;
    if (v.impressions_per_variant !== undefined && budget) {
      ctx.addIssue({
        code: 'custom',
        path: [v.media_budget_usd !== undefined ? 'media_budget_usd' : 'cpm_usd'],
        message: 'give impressions_per_variant or media_budget_usd with cpm_usd, not both',
      });
    } else if (v.impressions_per_variant === undefined && !budget) {
      ctx.addIssue({
        code: 'custom',
        path: ['impressions_per_variant'],
        message: 'required, unless media_budget_usd and cpm_usd are given',
      });
    } else if (budget && (v.media_budget_usd === undefined || v.cpm_usd === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [v.media_budget_usd === undefined ? 'media_budget_usd' : 'cpm_usd'],
        message: 'media_budget_usd and cpm_usd go together',
      });
    }
    if (v.baseline_ctr * (1 + v.target_mde) >= 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['target_mde'],
        message: 'baseline_ctr × (1 + target_mde) must stay below 1',
      });
    }
  })
  .describe('Ask for the minimum detectable effect of each dimension before spending on media');

export const previewBody = z.object({
  design: designSchema,
  power: powerInputSchema.optional(),
  sample_size: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(10)
    .describe('Rendered prompts to return in sample'),
});

/** How a run's variants split, as the plan counts them: the preview and the run's 202 both say it. */
export const planCounts = {
  new_variant_count: z
    .number()
    .int()
    .nonnegative()
    .describe('Variants the campaign has never generated: made and paid for by the run'),
  reused_variant_count: z
    .number()
    .int()
    .nonnegative()
    .describe('Variants the campaign already has, done or under way: free'),
  rerendered_variant_count: z
    .number()
    .int()
    .nonnegative()
    .describe('Failed or cancelled variants of the campaign the run renders again, and pays for'),
};

const mde = z
  .number()
  .nullable()
  .describe(
    "Minimum detectable relative change in CTR (0.12 = +12%) by the test the report will make: two-sided at alpha / tests (Holm's first step over every non-reference level), t on residual_df; null when not estimable or without residual df. Assumes even delivery (every variant on the same platforms and days in the same proportions), which the preview cannot know: variants delivered apart cost the report strata df and widen the MDE",
  );

const powerSchema = z.object({
  baseline_ctr: z.number(),
  impressions_per_variant: z.number().int().describe('As given, or the media budget per variant'),
  confidence: z.number(),
  tests: z
    .number()
    .int()
    .describe(
      "Tests the report adjusts over by default: Σ(levels − 1) over the dimensions; the MDE's alpha is (1 − confidence) / tests, what a lone real effect must clear under Holm (the default) and Benjamini–Hochberg (adjust=bh) alike; bh asks less when several levels have real effects, so the MDE is conservative there",
    ),
  residual_df: z
    .number()
    .int()
    .describe(
      'Variants minus the rank of the main-effects model: the df the report estimates the dispersion on and refers its t tests to; 0 means no level can be conclusive. The report charges platform and date strata against it when variants are delivered unevenly (model.strata.platform_df, date_df); platforms are unknown before delivery, so none is charged here',
    ),
  power: z.number(),
  variant_sd: z.number(),
  target_mde: z.number(),
  mde: z
    .record(z.string(), mde)
    .describe("Per dimension: its least-sensitive level's MDE against the reference"),
  impressions_needed_per_variant: z
    .record(z.string(), z.number().int().nullable())
    .describe(
      'Per dimension: impressions per variant to detect target_mde; null when variant_sd alone hides it (more variants needed, not impressions)',
    ),
  dimensions: z.array(
    z.object({
      dimension: z.string(),
      reference: z.string().nullable().describe('The level the others are compared with'),
      levels: z.array(
        z.object({
          level: z.string(),
          variants: z.number().int().describe('Variants of the design showing this level'),
          mde,
        }),
      ),
    }),
  ),
});

export const previewSchema = z
  .object({
    variant_count: z.number().int().nonnegative().describe('Variants the design makes'),
    ...planCounts,
    estimated_cost_usd: z
      .number()
      .nonnegative()
      .describe('What the run would cost: new and rerendered variants'),
    unit_cost_usd: z
      .number()
      .nonnegative()
      .describe(
        "Cost of one variant at the campaign's own settings (a generator dimension's levels have their own: see sample)",
      ),
    shots: z
      .object({
        unique: z
          .number()
          .int()
          .nonnegative()
          .describe("Distinct shots the design's variants are assembled from"),
        render_seconds: z
          .number()
          .nonnegative()
          .describe(
            'Seconds of the shots the run renders and pays for; estimated_cost_usd prices these',
          ),
        naive_render_seconds: z
          .number()
          .nonnegative()
          .describe('Seconds if every variant rendered each of its shots itself'),
      })
      .nullable()
      .describe("A spot campaign's renders (null without a spot): each distinct shot once"),
    budget: z
      .object({
        budget_usd: z.number().nullable().describe("The campaign's budget; null for none"),
        committed_usd: z
          .number()
          .describe('Paid by earlier runs, plus reserved by their variants not yet submitted'),
        remaining_usd: z.number().nullable(),
        fits: z.boolean().describe('Whether the run would fit the remaining budget now'),
        detail: z
          .string()
          .nullable()
          .describe('Why not: the detail of the 422 the run would answer with'),
      })
      .describe('What earlier runs left of the budget; the run checks the same again when started'),
    design_stats: z
      .object({
        pair_coverage: z
          .number()
          .min(0)
          .max(1)
          .describe(
            'Share of the allowed level pairs (any two dimensions) that some variant shows; 1 = every pair (1 when there are no pairs)',
          ),
        level_balance: z
          .number()
          .min(0)
          .max(1)
          .describe(
            "The least balanced dimension's rarest level count divided by its commonest; 1 = every level equally often",
          ),
        max_abs_correlation: z
          .number()
          .min(0)
          .max(1)
          .describe(
            'Largest |correlation| between level indicators of two different dimensions; 0 = every two dimensions crossed in proportion',
          ),
        parameters: z
          .number()
          .int()
          .describe(
            'Main-effects model size: 1 + Σ(levels − 1), the fewest variants that can estimate it',
          ),
        rank: z.number().int().describe('How many of those parameters the design can tell apart'),
        estimable: z
          .boolean()
          .describe("Every level's effect against its dimension's first level can be estimated"),
        d_efficiency: z
          .number()
          .min(0)
          .max(100)
          .describe(
            "100·|X'X|^(1/p)/n of the main-effects model in orthonormal contrast coding: 100 for an orthogonal array, 0 when not estimable",
          ),
        orthogonal: z
          .boolean()
          .describe(
            'An orthogonal array: every two dimensions show every level pair equally often',
          ),
        aliased_effects: z
          .array(z.string())
          .describe(
            'Levels ("dimension=level") whose effect is a linear combination of others: not estimable',
          ),
        smallest_estimable_design: z
          .object({ type: z.literal('balanced'), n: z.number().int() })
          .nullable()
          .describe(
            'When the design cannot estimate every main effect: the smallest balanced design checked to estimate them all; null otherwise, or when no design can',
          ),
        warning: z
          .string()
          .nullable()
          .describe('Why the design cannot be analysed as it stands, in words'),
      })
      .describe('How well the design supports comparing levels'),
    sample: z
      .array(
        z.object({
          levels: z.record(z.string(), z.string()),
          prompt: z.string(),
          provider: z.string().describe("The variant's generator: the campaign's or its level's"),
          model: z.string(),
          cost_usd: z.number().nonnegative().describe('One render of this variant'),
        }),
      )
      .describe('The first sample_size variants with their rendered prompts and generators'),
    power: powerSchema.optional().describe('Given a power request: what the design can detect'),
  })
  .meta({
    id: 'MatrixPreview',
    examples: [
      {
        variant_count: 9,
        new_variant_count: 9,
        reused_variant_count: 0,
        rerendered_variant_count: 0,
        estimated_cost_usd: 0,
        unit_cost_usd: 0,
        shots: null,
        budget: { budget_usd: 50, committed_usd: 0, remaining_usd: 50, fits: true, detail: null },
        design_stats: {
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
        },
        sample: [
          {
            levels: { tone: 'playful', city: 'paris' },
            prompt: 'A playful 8-second ad for Aurora sneakers in Paris',
            provider: 'local',
            model: 'card-v1',
            cost_usd: 0,
          },
        ],
      },
    ],
  });
