import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { aiDisclosure } from '../provenance/manifest.ts';
import type { Collected } from './collect.ts';
import { csvRounders } from './columns.ts';
import { CONTRAST_COLUMNS, contrastRows } from './contrast-rows.ts';
import { levelOf, type ReportDimension } from './dimensions.ts';
import {
  AI_COLUMNS,
  levelColumnNames,
  PERFORMANCE_COLUMNS,
  performance,
  performanceCells,
} from './numbers.ts';
import { type ReportHead, variantAt } from './report.ts';
import type { VariantAggregate } from './repository.ts';

export type CsvCell = string | number | null;

const OPTIONS = { escape_formulas: true, eof: false } as const;
// Our own ids and enum values: nothing to quote, nothing that could start a formula.
const PLAIN = /^[a-z0-9_]*$/;

export function variantHeader(
  dims: readonly ReportDimension[],
  reserved: readonly string[] = [],
): string[] {
  return [
    'variant_id',
    'status',
    ...levelColumnNames(
      dims.map((d) => d.key),
      reserved,
    ),
    ...PERFORMANCE_COLUMNS,
    ...AI_COLUMNS,
  ];
}

function variantRecord(v: VariantAggregate, dims: readonly ReportDimension[]): CsvCell[] {
  const ai = aiDisclosure(v);
  return [
    v.id,
    v.status,
    ...dims.map((dim) => {
      const l = levelOf(dim, v.levels);
      return l < 0 ? null : dim.levels[l]!;
    }),
    ...performanceCells(
      v.deliveries,
      performance(
        {
          impressions: v.impressions,
          clicks: v.clicks,
          conversions: v.conversions,
          spendUsd: v.spend_usd,
          videoViews: v.video_views,
          revenueUsd: v.revenue_usd,
        },
        {
          units: v.metric_rows,
          spend2: v.spend2,
          conversions2: v.conversions2,
          revenue2: v.revenue2,
          spendConversions: v.spend_conversions,
          revenueSpend: v.revenue_spend,
        },
      ),
    ),
    String(ai.ai_generated),
    ai.digital_source_type,
  ];
}

/**
 * A record as csv-stringify writes it with escape_formulas, byte for byte, but fast: every text
 * cell still goes through csv-stringify (quoting, escaping, the ' before = + - @ tab CR), once
 * per distinct value — level keys repeat on every row — while numbers are written as it writes
 * them ('' + n). Per-field stringify calls cost ~6 µs a row, 5× the database's own time per row.
 */
export function createCsvLine() {
  const texts = new Map<string, string>();
  const text = (value: string) => {
    if (PLAIN.test(value)) return value;
    let out = texts.get(value);
    if (out === undefined) {
      out = stringify([[value]], OPTIONS);
      if (texts.size < 10_000) texts.set(value, out);
    }
    return out;
  };
  return (cells: readonly CsvCell[]): string => {
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i];
      if (i) line += ',';
      if (typeof cell === 'string') line += text(cell);
      else if (typeof cell === 'number') line += `${cell}`;
    }
    return line;
  };
}

/** A header, then each batch of records, numbers rounded by column (columns.ts says the rule). */
function csvTable(header: readonly string[], batches: AsyncIterable<CsvCell[][]>): Readable {
  const line = createCsvLine();
  const round = csvRounders(header);
  async function* text() {
    yield `${stringify([header], OPTIONS)}\n`;
    for await (const batch of batches) {
      let chunk = '';
      for (const cells of batch) {
        for (let i = 0; i < cells.length; i++) {
          const cell = cells[i];
          if (typeof cell === 'number') cells[i] = round[i]!(cell);
        }
        chunk += `${line(cells)}\n`;
      }
      yield chunk;
    }
  }
  return Readable.from(text());
}

/**
 * One CSV row per variant, written as the aggregation streams in: nothing but the current batch
 * is ever held. Stopping the response (a client hang-up) stops the query. The JSON and the XLSX
 * keep full precision.
 */
export function csvReport(
  batches: AsyncIterable<VariantAggregate[]>,
  dims: readonly ReportDimension[],
): Readable {
  async function* records() {
    for await (const batch of batches) yield batch.map((v) => variantRecord(v, dims));
  }
  return csvTable(variantHeader(dims), records());
}

/**
 * The CSV when comparisons are asked for (`compare`): still one table, its first column `kind`
 * saying what a row is. `effect` rows (each non-reference level against its reference) and
 * `comparison` rows (each pair asked for) come first and fill the contrast columns; then one
 * `variant` row per variant fills the variant columns, which are the plain CSV's, in its order.
 * The model needs every variant before its first row, so this one is written from the collected
 * report, as the XLSX is.
 */
export function comparedCsvReport(
  head: ReportHead,
  c: Collected,
  dims: ReportDimension[],
  chunk = 1_000,
): Readable {
  const variantColumns = variantHeader(dims, ['kind', ...CONTRAST_COLUMNS]);
  const noVariant = variantColumns.map(() => null);
  const noContrast = CONTRAST_COLUMNS.map(() => null);
  async function* records(): AsyncGenerator<CsvCell[][]> {
    yield contrastRows(head.by_dimension).map((r) => [r.kind, ...noVariant, ...r.cells]);
    for (let start = 0; start < c.count; start += chunk) {
      const batch: CsvCell[][] = [];
      for (let i = start; i < Math.min(c.count, start + chunk); i++) {
        const v = variantAt(c, dims, i);
        batch.push([
          'variant',
          v.id,
          v.status,
          ...dims.map((dim) => v.levels[dim.key] ?? null),
          ...performanceCells(v.deliveries, v),
          String(v.ai_generated),
          v.digital_source_type,
          ...noContrast,
        ]);
      }
      yield batch;
    }
  }
  return csvTable(['kind', ...variantColumns, ...CONTRAST_COLUMNS], records());
}
