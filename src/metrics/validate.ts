/**
 * One metrics row checked and normalised; pure, no I/O. Values arrive as CSV text or JSON
 * values, and both are held to the same rules so an upload means the same in either format.
 */

export const METRIC_FIELDS = [
  'variant_id',
  'external_id',
  'date',
  'platform',
  'impressions',
  'clicks',
  'conversions',
  'spend_usd',
  'video_views',
  'revenue_usd',
] as const;
export type MetricField = (typeof METRIC_FIELDS)[number];
export const REQUIRED_FIELDS: readonly MetricField[] = ['date', 'impressions', 'clicks'];
/** A row names its variant by one of these (or both, which must agree). */
export const ID_FIELDS = ['variant_id', 'external_id'] as const;

export const DATE_FORMATS = [
  'YYYY-MM-DD',
  'DD/MM/YYYY',
  'MM/DD/YYYY',
  'DD.MM.YYYY',
  'DD-MM-YYYY',
  'YYYY/MM/DD',
] as const;
type DateFormat = (typeof DATE_FORMATS)[number];

/** How text cells spell numbers and dates; JSON numbers and XLSX number/date cells need neither. */
export interface CellFormat {
  decimal: '.' | ',';
  dateFormat: DateFormat;
}

export const DEFAULT_CELL_FORMAT: CellFormat = { decimal: '.', dateFormat: 'YYYY-MM-DD' };

export interface MetricRow {
  /** '' when the row names its variant by external_id only; filled in once resolved. */
  variantId: string;
  externalId: string;
  date: string;
  platform: string;
  impressions: number;
  clicks: number;
  conversions: number;
  spendUsd: number;
  videoViews: number;
  revenueUsd: number;
}

export interface RowProblem {
  field: MetricField | null;
  message: string;
}

interface DateWindow {
  /** Inclusive bounds as YYYY-MM-DD, compared as strings. */
  earliest: string;
  latest: string;
}

/** Dates must be real days from 2000 on and at most one day ahead of UTC (time zones). */
export function dateWindow(now: Date): DateWindow {
  const tomorrow = new Date(now.getTime() + 86_400_000);
  return { earliest: '2000-01-01', latest: tomorrow.toISOString().slice(0, 10) };
}

const PLATFORM_MAX = 64;
const VARIANT_ID_MAX = 100;
// numeric(14, 4): ten integer digits.
const SPEND_LIMIT = 1e10;
const SIGNED_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const SIGNED_DECIMAL_COMMA = /^[+-]?(?:\d+,?\d*|,\d+)$/;
const EXTERNAL_ID_MAX = 300;
// Line breaks and other control characters break CSV exports and log lines.
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;

type Result<T> = { ok: true; value: T } | { ok: false; message: string };

function present(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value === '');
}

/**
 * A number as given, or the number a text cell spells with the chosen decimal mark; null when
 * it is not one. Thousands separators are refused, not guessed: "1.234" with decimal "," could
 * be either, and a wrong guess writes a number off by a factor of 1000.
 */
function toNumber(value: unknown, decimal: CellFormat['decimal']): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const t = value.trim();
  if (decimal === ',') return SIGNED_DECIMAL_COMMA.test(t) ? Number(t.replace(',', '.')) : null;
  return SIGNED_DECIMAL.test(t) ? Number(t) : null;
}

/** Where year, month and day sit in each format, as a pattern with three groups. */
const DATE_PATTERNS: Record<DateFormat, { re: RegExp; order: [number, number, number] }> = {
  'YYYY-MM-DD': { re: /^(\d{4})-(\d{1,2})-(\d{1,2})$/, order: [1, 2, 3] },
  'YYYY/MM/DD': { re: /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/, order: [1, 2, 3] },
  'DD/MM/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: [3, 2, 1] },
  'MM/DD/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: [3, 1, 2] },
  'DD.MM.YYYY': { re: /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, order: [3, 2, 1] },
  'DD-MM-YYYY': { re: /^(\d{1,2})-(\d{1,2})-(\d{4})$/, order: [3, 2, 1] },
};

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.trim()) : String(value);
}

function wholeNumber(value: unknown, decimal: CellFormat['decimal']): Result<number> {
  const n = toNumber(value, decimal);
  if (n === null) return { ok: false, message: `must be a number (got ${shown(value)})` };
  if (n < 0) return { ok: false, message: `must not be negative (got ${n})` };
  if (!Number.isInteger(n)) return { ok: false, message: `must be a whole number (got ${n})` };
  if (!Number.isSafeInteger(n)) return { ok: false, message: 'is too large' };
  return { ok: true, value: n + 0 };
}

function amount(value: unknown, decimal: CellFormat['decimal']): Result<number> {
  const n = toNumber(value, decimal);
  if (n === null) return { ok: false, message: `must be a number (got ${shown(value)})` };
  if (n < 0) return { ok: false, message: `must not be negative (got ${n})` };
  if (n >= SPEND_LIMIT) return { ok: false, message: `must be below ${SPEND_LIMIT}` };
  return { ok: true, value: n + 0 };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** An XLSX date cell is a Date at UTC midnight of the day it shows (exceljs reads it so). */
function day(value: unknown, window: DateWindow, format: DateFormat): Result<string> {
  let y: number;
  let mo: number;
  let d: number;
  let text: string;
  if (value instanceof Date && !Number.isNaN(value.getTime())) {
    [y, mo, d] = [value.getUTCFullYear(), value.getUTCMonth() + 1, value.getUTCDate()];
    text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`;
  } else if (typeof value === 'string') {
    text = value.trim();
    const { re, order } = DATE_PATTERNS[format];
    const m = re.exec(text);
    if (!m)
      return { ok: false, message: `must be a date as ${format} (got ${JSON.stringify(text)})` };
    [y, mo, d] = order.map((i) => Number(m[i])) as [number, number, number];
  } else {
    return { ok: false, message: `must be a date as ${format}` };
  }
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return { ok: false, message: `${text} is not a calendar date` };
  }
  const iso = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`;
  if (iso < window.earliest) return { ok: false, message: `${text} is before ${window.earliest}` };
  if (iso > window.latest) {
    return { ok: false, message: `${text} is in the future (latest accepted: ${window.latest})` };
  }
  return { ok: true, value: iso };
}

function text(value: unknown, max: number): Result<string> {
  if (typeof value !== 'string') return { ok: false, message: 'must be a string' };
  const t = value.trim();
  if (t.length > max) return { ok: false, message: `is longer than ${max} characters` };
  if (CONTROL.test(t)) return { ok: false, message: 'contains control characters' };
  return { ok: true, value: t };
}

/**
 * Ad ids are digits, and a spreadsheet keeps a long one as a number: past 2^53 its last digits
 * are already gone (1.2021E+17), so matching it would pick the wrong ad or none.
 */
function externalIdText(value: unknown): Result<string> {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      return {
        ok: false,
        message: `was stored as a number and lost digits (${value}); format the column as text`,
      };
    }
    return { ok: true, value: String(value) };
  }
  const t = text(value, EXTERNAL_ID_MAX);
  if (t.ok && /^[+-]?\d(?:\.\d+)?E\+\d+$/i.test(t.value)) {
    return {
      ok: false,
      message: `is in scientific notation (${t.value}): the spreadsheet rounded the id; format the column as text`,
    };
  }
  return t;
}

/**
 * The row, or every problem found in it (one per field at most). `values` holds the raw values
 * by field name; absent optional fields take their defaults.
 */
export function checkRow(
  values: Readonly<Record<string, unknown>>,
  window: DateWindow,
  format: CellFormat = DEFAULT_CELL_FORMAT,
): { ok: true; row: MetricRow } | { ok: false; problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  if (!ID_FIELDS.some((f) => present(values[f]))) {
    problems.push({ field: 'variant_id', message: 'variant_id or external_id is required' });
  }
  for (const field of REQUIRED_FIELDS) {
    if (!present(values[field])) problems.push({ field, message: `${field} is required` });
  }
  const fail = (field: MetricField, r: { message: string }) =>
    problems.push({ field, message: `${field} ${r.message}` });
  const get = <T>(field: MetricField, parse: (v: unknown) => Result<T>, fallback: T): T => {
    const raw = values[field];
    if (!present(raw)) return fallback;
    const r = parse(raw);
    if (r.ok) return r.value;
    fail(field, r);
    return fallback;
  };

  const whole = (v: unknown) => wholeNumber(v, format.decimal);
  const variantId = get('variant_id', (v) => text(v, VARIANT_ID_MAX), '');
  const externalId = get('external_id', externalIdText, '');
  const date = get('date', (v) => day(v, window, format.dateFormat), '');
  const platform = get('platform', (v) => text(v, PLATFORM_MAX), '');
  const impressions = get('impressions', whole, Number.NaN);
  const clicks = get('clicks', whole, Number.NaN);
  const conversions = get('conversions', whole, 0);
  const spendUsd = get('spend_usd', (v) => amount(v, format.decimal), 0);
  const videoViews = get('video_views', whole, 0);
  const revenueUsd = get('revenue_usd', (v) => amount(v, format.decimal), 0);
  if (clicks > impressions) {
    problems.push({
      field: 'clicks',
      message: `clicks (${clicks}) exceed impressions (${impressions})`,
    });
  }
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    row: {
      variantId,
      externalId,
      date,
      platform,
      impressions,
      clicks,
      conversions,
      spendUsd,
      videoViews,
      revenueUsd,
    },
  };
}
