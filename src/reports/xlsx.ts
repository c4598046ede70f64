import { PassThrough, type Readable } from 'node:stream';
import type { Collected } from './collect.ts';
import { variantHeader } from './csv.ts';
import type { ReportDimension } from './dimensions.ts';
import { performanceCells } from './numbers.ts';
import { type ReportHead, variantAt } from './report.ts';

type Cell = string | number | boolean | null;

// ASCII and full-width = + - @, tab and CR.
const FORMULA_START = new Set([...'=+-@\t\r\uFF1D\uFF0B\uFF0D\uFF20']);
// Control characters other than tab, LF and CR (XML 1.0 cannot carry most of them; left in,
// they make Excel call the file corrupt), and the two non-characters.
const XML_INVALID = /[^\P{Cc}\t\n\r]|[\uFFFE\uFFFF]/gu;

/**
 * A text cell that cannot become a formula: the same rule as csv-stringify's escape_formulas
 * (a leading ' for = + - @ tab CR and their full-width forms), so a value copied out of the
 * sheet or re-saved as CSV stays text too.
 */
function safeText(value: string): string {
  const clean = value.replace(XML_INVALID, '');
  return FORMULA_START.has(clean.charAt(0)) ? `'${clean}` : clean;
}

function cells(values: readonly Cell[]): Cell[] {
  return values.map((v) => (typeof v === 'string' ? safeText(v) : v));
}

function summaryRows(head: ReportHead): [string, Cell][] {
  const s = head.summary;
  const o = head.operations;
  const m = head.model;
  return [
    ['campaign_id', head.campaign_id],
    ['campaign_name', head.campaign_name],
    ['run_id', head.run_id],
    ['generated_at', head.generated_at],
    ['variants', s.variants],
    ['variants_with_impressions', s.variants_with_impressions],
    ['impressions', s.impressions],
    ['clicks', s.clicks],
    ['ctr', s.ctr],
    ['ctr_low', s.ctr_ci?.[0] ?? null],
    ['ctr_high', s.ctr_ci?.[1] ?? null],
    ['conversions', s.conversions],
    ['cvr', s.cvr],
    ['spend_usd', s.spend_usd],
    ['cpa', s.cpa],
    ['video_views', s.video_views],
    ...Object.entries(head.by_status).map(([k, n]): [string, Cell] => [`status: ${k}`, n]),
    ['cost_estimated_usd', o.cost.estimated_usd],
    ['cost_actual_usd', o.cost.actual_usd],
    ['render_time_s_count', o.render_time_s.count],
    ['render_time_s_p50', o.render_time_s.p50],
    ['render_time_s_p90', o.render_time_s.p90],
    ...o.failures.map((f): [string, Cell] => [`failures: ${f.code}`, f.count]),
    ['review_rendered', o.review.rendered],
    ['review_reviewed', o.review.reviewed],
    ['review_coverage', o.review.coverage],
    ['delivery_eligible', o.delivery.eligible],
    ['delivery_delivered', o.delivery.delivered],
    ['delivery_coverage', o.delivery.coverage],
    ...o.delivery.by_destination.map((d): [string, Cell] => [
      `delivery_coverage: ${d.destination}`,
      d.coverage,
    ]),
    ['model', m.description],
    ['model_formula', m.formula],
    ['model_rows', m.rows],
    ['model_converged', m.converged],
    ['model_strata_platform', m.strata.platform.join(', ')],
    ['dispersion_phi', m.dispersion?.phi ?? null],
    ['dispersion_scale', m.dispersion?.scale ?? null],
    ['dispersion_residual_df', m.dispersion?.residual_df ?? null],
    ['conclusive_possible', m.conclusive_possible],
    ['confidence', m.confidence],
    ['adjust', m.adjust],
    ['equivalence_margin', m.equivalence_margin],
    ['min_impressions', m.thresholds.min_impressions],
    ['min_clicks', m.thresholds.min_clicks],
    ...head.by_dimension.map((d): [string, Cell] => [`summary: ${d.dimension}`, d.summary]),
  ];
}

const DIMENSION_COLUMNS = [
  'dimension',
  'level',
  'label',
  'reference',
  'variants',
  'ready',
  'delivered',
  'impressions',
  'clicks',
  'ctr',
  'ctr_low',
  'ctr_high',
  'effect',
  'effect_low',
  'effect_high',
  'lift',
  'lift_low',
  'lift_high',
  'interval_level',
  'p_value',
  'p_adjusted',
  'prob_beat_reference',
  'prob_best',
  'verdict',
  'note',
  'impression_share',
  'design_share',
  'delivery_warning',
];

/**
 * The report as a workbook (sheets summary, by_dimension, variants), streamed: rows are
 * committed as written and each sheet is finished before the next starts, so exceljs never
 * holds more than its zip buffers.
 */
export async function xlsxReport(
  head: ReportHead,
  c: Collected,
  dims: ReportDimension[],
): Promise<Readable> {
  // Loaded on first use: exceljs costs ~20 MB resident in every process that imports it.
  const { default: ExcelJS } = await import('exceljs');
  const out = new PassThrough();
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: false,
    useSharedStrings: false,
  });
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

  async function write() {
    const summary = book.addWorksheet('summary');
    summary.addRow(['field', 'value']).commit();
    for (const row of summaryRows(head)) summary.addRow(cells(row)).commit();
    summary.commit();

    const byDimension = book.addWorksheet('by_dimension');
    byDimension.addRow(DIMENSION_COLUMNS).commit();
    for (const d of head.by_dimension) {
      for (const l of d.levels) {
        const row: Cell[] = [
          d.dimension,
          l.level,
          l.label,
          l.reference,
          l.variants,
          l.ready,
          l.delivered,
          l.impressions,
          l.clicks,
          l.ctr,
          l.ctr_ci?.[0] ?? null,
          l.ctr_ci?.[1] ?? null,
          l.effect,
          l.effect_ci?.[0] ?? null,
          l.effect_ci?.[1] ?? null,
          l.lift,
          l.lift_ci?.[0] ?? null,
          l.lift_ci?.[1] ?? null,
          l.interval_level,
          l.p_value,
          l.p_adjusted,
          l.prob_beat_reference,
          l.prob_best,
          l.verdict,
          l.note,
          l.delivery.impression_share,
          l.delivery.design_share,
          l.delivery.warning,
        ];
        byDimension.addRow(cells(row)).commit();
      }
    }
    byDimension.commit();

    const variants = book.addWorksheet('variants');
    variants.addRow(variantHeader(dims)).commit();
    for (let i = 0; i < c.count; i++) {
      const v = variantAt(c, dims, i);
      const row: Cell[] = [
        v.id,
        v.status,
        ...dims.map((dim) => v.levels[dim.key] ?? null),
        ...performanceCells(v.deliveries, v),
      ];
      variants.addRow(cells(row)).commit();
      // Lets the zip deflate and the response drain what was written so far.
      if (i % 1000 === 999) {
        await tick();
        if (out.destroyed) return;
      }
    }
    variants.commit();
    await book.commit();
  }

  write().catch((err: unknown) => out.destroy(err as Error));
  return out;
}
