/** The report's query options and its response in each format. */
import { z } from 'zod';
import { reportSchema } from './report-schema.ts';

export { reportSchema };

export const reportQuery = z.object({
  run_id: z.string().min(1).max(64).optional().describe("Only this run's variants"),
  format: z.enum(['json', 'csv', 'xlsx']).default('json'),
  confidence: z
    .enum(['0.7', '0.8', '0.9', '0.95', '0.99'])
    .default('0.95')
    .describe('Confidence at which a level is "conclusive" (after the adjustment)'),
  adjust: z
    .enum(['holm', 'bh'])
    .default('holm')
    .describe(
      'Multiplicity adjustment over every level of every dimension: holm (family-wise error) or bh (Benjamini–Hochberg, false discovery rate)',
    ),
  metric: z
    .enum(['ctr', 'cvr', 'view_rate'])
    .default('ctr')
    .describe(
      'The outcome the model explains, as successes out of trials: ctr (clicks / impressions), cvr (conversions / clicks) or view_rate (video views / impressions). Effects, verdicts and summaries speak of it; variants with more successes than trials are left out of the fit',
    ),
  compare: z
    .string()
    .max(1000)
    .regex(/^[^,]+(,[^,]+)*$/, 'all, or dimension keys separated by commas')
    .optional()
    .describe(
      'Also compare the non-reference levels with each other: all (every dimension) or dimension keys separated by commas. Each pair comes from the same fit (the difference of two log odds ratios, variance v_a + v_b − 2·c_ab) and joins the adjusted family, so the other p-values and intervals account for it too',
    ),
  equivalence_margin: z.coerce
    .number()
    .gt(0)
    .lt(1)
    .default(0.05)
    .describe(
      'Relative change of the modelled metric within which a level counts as "no difference" (its whole interval inside ±margin)',
    ),
});

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export const reportResponse = {
  description:
    'The report. CSV: one row per variant, rates rounded to 6 decimal places and money to the cent, counts exact; with compare, a first column kind and effect and comparison rows (dimension, level, versus, odds ratio, interval, p-values, prob_better, verdict) before the variant rows. XLSX: one sheet per section (summary, operations, model, by_dimension, comparisons when compare asks for them, variants), full precision shown in percent and number formats, frozen bold headers, fitted widths, level labels beside their keys.',
  content: {
    'application/json': { schema: reportSchema },
    'text/csv': { schema: z.string() },
    [XLSX_TYPE]: { schema: z.string().meta({ format: 'binary' }) },
  },
};
