import { PassThrough, type Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import type { Collected } from './collect.ts';
import { xlsxFormat, xlsxNumberWidth } from './columns.ts';
import { CONTRAST_COLUMNS, contrastRows, NUMBER_COLUMNS, numberCells } from './contrast-rows.ts';
import { variantHeader } from './csv.ts';
import type { ReportDimension } from './dimensions.ts';
import { PERFORMANCE_COLUMNS, performanceCells } from './numbers.ts';
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

type Field = [string, Cell];

function summaryRows(head: ReportHead): Field[] {
  const s = head.summary;
  return [
    ['campaign_id', head.campaign_id],
    ['campaign_name', head.campaign_name],
    ['run_id', head.run_id],
    ['generated_at', head.generated_at],
    ['variants', s.variants],
    ['variants_with_impressions', s.variants_with_impressions],
    // Every performance column but deliveries (a per-variant count), as the variants sheet has.
    ...zip(PERFORMANCE_COLUMNS, performanceCells(0, s)).slice(1),
    ...head.by_dimension.map((d): Field => [`summary: ${d.dimension}`, d.summary]),
  ];
}

function operationsRows(head: ReportHead): Field[] {
  const o = head.operations;
  return [
    ...Object.entries(head.by_status).map(([k, n]): Field => [`status: ${k}`, n]),
    ['cost_estimated_usd', o.cost.estimated_usd],
    ['cost_actual_usd', o.cost.actual_usd],
    ['render_time_s_count', o.render_time_s.count],
    ['render_time_s_p50', o.render_time_s.p50],
    ['render_time_s_p90', o.render_time_s.p90],
    ...o.failures.map((f): Field => [`failures: ${f.code}`, f.count]),
    ['review_rendered', o.review.rendered],
    ['review_reviewed', o.review.reviewed],
    ['review_coverage', o.review.coverage],
    ['delivery_eligible', o.delivery.eligible],
    ['delivery_delivered', o.delivery.delivered],
    ['delivery_coverage', o.delivery.coverage],
    ...o.delivery.by_destination.map(
      (d): Field => [`delivery_coverage: ${d.destination}`, d.coverage],
    ),
  ];
}

function modelRows(head: ReportHead): Field[] {
  const m = head.model;
  return [
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
  ];
}

const zip = <T>(names: readonly string[], values: readonly T[]) =>
  names.map((n, i): [string, T] => [n, values[i]!]);

// The performance columns after deliveries, impressions, clicks and the CTR with its interval,
// which by_dimension shows up front: conversions, CVR, spend, CPA, views, revenue and ROAS.
const OTHER_METRICS = 6;

const DIMENSION_COLUMNS = [
  'dimension',
  'dimension_label',
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
  ...NUMBER_COLUMNS,
  'prob_beat_reference',
  'prob_best',
  'verdict',
  'note',
  'impression_share',
  'design_share',
  'delivery_warning',
  ...PERFORMANCE_COLUMNS.slice(OTHER_METRICS),
];

type Book = ExcelJS.stream.xlsx.WorkbookWriter;
type Sheet = ReturnType<Book['addWorksheet']>;

const HEADER_STYLE: Partial<ExcelJS.Style> = {
  font: { bold: true },
  fill: { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EEF4' } },
  border: { bottom: { style: 'thin' } },
};
// Text columns are as wide as their longest value, within these bounds (characters).
const MIN_WIDTH = 8;
const MAX_WIDTH = 60;

// exceljs takes a width of exactly 9 for its default and leaves that column's width out.
const written = (width: number) => (width === 9 ? 9.5 : width);

const textWidth = (values: Iterable<Cell>, floor = 0) => {
  let width = floor;
  for (const v of values) if (typeof v === 'string') width = Math.max(width, v.length);
  return written(Math.min(MAX_WIDTH, width + 2));
};

function headerRow(sheet: Sheet, names: readonly string[]) {
  const row = sheet.addRow(names);
  row.eachCell((cell) => {
    cell.style = HEADER_STYLE;
  });
  row.commit();
}

/**
 * A table sheet: header frozen (with the first `keyColumns` columns), each number column in
 * its format (columns.ts), widths from the header, the format or the given text widths.
 * Returns a function writing one data row.
 */
function tableSheet(
  book: Book,
  name: string,
  columns: readonly string[],
  keyColumns: number,
  textWidths: ReadonlyMap<string, number>,
) {
  const sheet = book.addWorksheet(name, {
    views: [{ state: 'frozen', xSplit: keyColumns, ySplit: 1 }],
  });
  sheet.columns = columns.map((c) => ({
    key: c,
    width: written(Math.max(c.length + 2, xlsxNumberWidth(c) ?? textWidths.get(c) ?? MIN_WIDTH)),
  }));
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } };
  headerRow(sheet, columns);
  // One style object per column, shared by its cells: exceljs caches a style by identity, so
  // this costs a lookup per cell. A column style would be copied into each cell and re-hashed,
  // which doubled the time to write 100,000 rows.
  const styles = columns.map((c): Partial<ExcelJS.Style> => {
    const numFmt = xlsxFormat(c);
    return numFmt ? { numFmt } : {};
  });
  return {
    add(values: readonly Cell[]) {
      const row = sheet.addRow(cells(values));
      row.eachCell((cell, n) => {
        cell.style = styles[n - 1]!;
      });
      row.commit();
    },
    commit: () => sheet.commit(),
  };
}

/** A field/value sheet; a number takes its field's format. */
function fieldSheet(book: Book, name: string, rows: Field[]) {
  const sheet = book.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = [
    {
      key: 'field',
      width: textWidth(
        rows.map((r) => r[0]),
        5,
      ),
    },
    {
      key: 'value',
      width: textWidth(
        rows.map((r) => r[1]),
        12,
      ),
      style: { alignment: { wrapText: true, vertical: 'top', horizontal: 'left' } },
    },
  ];
  headerRow(sheet, ['field', 'value']);
  for (const [field, value] of rows) {
    const row = sheet.addRow(cells([field, value]));
    const numFmt = typeof value === 'number' ? xlsxFormat(field) : undefined;
    if (numFmt) row.getCell(2).numFmt = numFmt;
    row.commit();
  }
  sheet.commit();
}

/**
 * Pairs of non-reference levels (asked for with `compare`), in the CSV's contrast columns. The
 * sheet is there whenever they were asked for, empty when no dimension has two such levels.
 */
function comparisonsSheet(book: Book, head: ReportHead) {
  const rows = contrastRows(head.by_dimension, ['comparison']);
  const widest = (k: number) => textWidth(rows.map((r) => r.cells[k] ?? null));
  const sheet = tableSheet(
    book,
    'comparisons',
    CONTRAST_COLUMNS,
    4,
    new Map([
      ['dimension', widest(0)],
      ['level', widest(1)],
      ['label', widest(2)],
      ['versus', widest(3)],
      ['versus_label', widest(4)],
      ['verdict', 19],
      ['note', MAX_WIDTH],
    ]),
  );
  for (const r of rows) sheet.add(r.cells);
  sheet.commit();
}

/** Variant table columns: each dimension's level key with its label beside it. */
function variantColumns(dims: readonly ReportDimension[]) {
  const header = variantHeader(dims);
  const levelNames = header.slice(2, 2 + dims.length);
  return [
    ...header.slice(0, 2),
    ...levelNames.flatMap((n) => [n, `${n}_label`]),
    ...header.slice(2 + dims.length),
  ];
}

/**
 * The report as a workbook, one sheet per section (summary, operations, model, by_dimension,
 * comparisons when asked for, variants), formatted to hand on: percent and number formats, widths, frozen header rows,
 * level labels beside their keys. Streamed: rows are committed as written and each sheet is
 * finished before the next starts, so exceljs never holds more than its zip buffers.
 */
export async function xlsxReport(
  head: ReportHead,
  c: Collected,
  dims: ReportDimension[],
  opts: { comparisons?: boolean } = {},
): Promise<Readable> {
  // Loaded on first use: exceljs costs ~20 MB resident in every process that imports it.
  const { default: ExcelJS } = await import('exceljs');
  const out = new PassThrough();
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

  async function write() {
    fieldSheet(book, 'summary', summaryRows(head));
    fieldSheet(book, 'operations', operationsRows(head));
    fieldSheet(book, 'model', modelRows(head));

    const levels = head.by_dimension.flatMap((d) => d.levels.map((l) => ({ d, l })));
    const widest = (text: (x: (typeof levels)[number]) => string) => textWidth(levels.map(text));
    const byDimension = tableSheet(
      book,
      'by_dimension',
      DIMENSION_COLUMNS,
      3,
      new Map([
        ['dimension', widest((x) => x.d.dimension)],
        ['dimension_label', widest((x) => x.d.label)],
        ['level', widest((x) => x.l.level)],
        ['label', widest((x) => x.l.label)],
        ['verdict', 19],
        ['note', MAX_WIDTH],
        ['delivery_warning', MAX_WIDTH],
      ]),
    );
    for (const { d, l } of levels) {
      const row: Cell[] = [
        d.dimension,
        d.label,
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
        ...numberCells(l),
        l.prob_beat_reference,
        l.prob_best,
        l.verdict,
        l.note,
        l.delivery.impression_share,
        l.delivery.design_share,
        l.delivery.warning,
        ...performanceCells(0, l).slice(OTHER_METRICS),
      ];
      byDimension.add(row);
    }
    byDimension.commit();
    if (opts.comparisons) comparisonsSheet(book, head);

    const columns = variantColumns(dims);
    const levelWidths = dims.flatMap((dim, k) => {
      const name = columns[2 + 2 * k]!;
      return [
        [name, textWidth(dim.levels)],
        [`${name}_label`, textWidth(dim.labels)],
      ] as [string, number][];
    });
    const variants = tableSheet(
      book,
      'variants',
      columns,
      1,
      new Map([['variant_id', 30], ['status', 12], ...levelWidths]),
    );
    for (let i = 0; i < c.count; i++) {
      const v = variantAt(c, dims, i);
      const row: Cell[] = [
        v.id,
        v.status,
        ...dims.flatMap((dim) => {
          const key = v.levels[dim.key];
          const at = key === undefined ? undefined : dim.index.get(key);
          return [key ?? null, at === undefined ? null : dim.labels[at]!];
        }),
        ...performanceCells(v.deliveries, v),
        v.ai_generated,
        v.digital_source_type,
      ];
      variants.add(row);
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
