/**
 * One metrics row checked and normalised; pure, no I/O. Values arrive as CSV text or JSON
 * values, and both are held to the same rules so an upload means the same in either format.
 */

export const METRIC_FIELDS = [
  'variant_id',
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
export const REQUIRED_FIELDS: readonly MetricField[] = [
  'variant_id',
  'date',
  'impressions',
  'clicks',
];

export interface MetricRow {
  variantId: string;
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
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// Line breaks and other control characters break CSV exports and log lines.
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;

type Result<T> = { ok: true; value: T } | { ok: false; message: string };

function present(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value === '');
}

/** A number as given, or the number a CSV cell spells; null when it is not one. */
function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const t = value.trim();
  return SIGNED_DECIMAL.test(t) ? Number(t) : null;
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.trim()) : String(value);
}

function wholeNumber(value: unknown): Result<number> {
  const n = toNumber(value);
  if (n === null) return { ok: false, message: `must be a number (got ${shown(value)})` };
  if (n < 0) return { ok: false, message: `must not be negative (got ${n})` };
  if (!Number.isInteger(n)) return { ok: false, message: `must be a whole number (got ${n})` };
  if (!Number.isSafeInteger(n)) return { ok: false, message: 'is too large' };
  return { ok: true, value: n + 0 };
}

function amount(value: unknown): Result<number> {
  const n = toNumber(value);
  if (n === null) return { ok: false, message: `must be a number (got ${shown(value)})` };
  if (n < 0) return { ok: false, message: `must not be negative (got ${n})` };
  if (n >= SPEND_LIMIT) return { ok: false, message: `must be below ${SPEND_LIMIT}` };
  return { ok: true, value: n + 0 };
}

function day(value: unknown, window: DateWindow): Result<string> {
  if (typeof value !== 'string') return { ok: false, message: 'must be a string YYYY-MM-DD' };
  const text = value.trim();
  const m = ISO_DATE.exec(text);
  if (!m)
    return { ok: false, message: `must be a date as YYYY-MM-DD (got ${JSON.stringify(text)})` };
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return { ok: false, message: `${text} is not a calendar date` };
  }
  if (text < window.earliest) return { ok: false, message: `${text} is before ${window.earliest}` };
  if (text > window.latest) {
    return { ok: false, message: `${text} is in the future (latest accepted: ${window.latest})` };
  }
  return { ok: true, value: text };
}

function text(value: unknown, max: number): Result<string> {
  if (typeof value !== 'string') return { ok: false, message: 'must be a string' };
  const t = value.trim();
  if (t.length > max) return { ok: false, message: `is longer than ${max} characters` };
  if (CONTROL.test(t)) return { ok: false, message: 'contains control characters' };
  return { ok: true, value: t };
}

/**
 * The row, or every problem found in it (one per field at most). `values` holds the raw values
 * by field name; absent optional fields take their defaults.
 */
export function checkRow(
  values: Readonly<Record<string, unknown>>,
  window: DateWindow,
): { ok: true; row: MetricRow } | { ok: false; problems: RowProblem[] } {
  const problems: RowProblem[] = [];
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

  const variantId = get('variant_id', (v) => text(v, VARIANT_ID_MAX), '');
  const date = get('date', (v) => day(v, window), '');
  const platform = get('platform', (v) => text(v, PLATFORM_MAX), '');
  const impressions = get('impressions', wholeNumber, Number.NaN);
  const clicks = get('clicks', wholeNumber, Number.NaN);
  const conversions = get('conversions', wholeNumber, 0);
  const spendUsd = get('spend_usd', amount, 0);
  const videoViews = get('video_views', wholeNumber, 0);
  const revenueUsd = get('revenue_usd', amount, 0);
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
