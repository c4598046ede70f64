/**
 * What each exported number is, by column (or summary field) name: the one table the CSV
 * rounding and the XLSX number formats are derived from, so a new column is declared once.
 */
type NumberKind =
  | 'count'
  | 'rate'
  | 'change'
  | 'money'
  | 'multiple'
  | 'odds'
  | 'p'
  | 'seconds'
  | 'plain';

const KINDS: Record<string, NumberKind> = {
  deliveries: 'count',
  variants: 'count',
  variants_with_impressions: 'count',
  ready: 'count',
  delivered: 'count',
  impressions: 'count',
  clicks: 'count',
  conversions: 'count',
  video_views: 'count',
  ctr: 'rate',
  ctr_low: 'rate',
  ctr_high: 'rate',
  cvr: 'rate',
  // Item 8's columns (wip/metrics), declared ahead so its merge needs no change here.
  cvr_low: 'rate',
  cvr_high: 'rate',
  view_rate: 'rate',
  view_rate_low: 'rate',
  view_rate_high: 'rate',
  cpa_low: 'money',
  cpa_high: 'money',
  roas: 'multiple',
  roas_low: 'multiple',
  roas_high: 'multiple',
  interval_level: 'rate',
  prob_beat_reference: 'rate',
  prob_better: 'rate',
  prob_best: 'rate',
  impression_share: 'rate',
  design_share: 'rate',
  confidence: 'rate',
  equivalence_margin: 'rate',
  lift: 'change',
  lift_low: 'change',
  lift_high: 'change',
  spend_usd: 'money',
  cpa: 'money',
  effect: 'odds',
  effect_low: 'odds',
  effect_high: 'odds',
  p_value: 'p',
  p_adjusted: 'p',
};

function kindOf(name: string): NumberKind {
  const known = KINDS[name];
  if (known) return known;
  if (name.includes('coverage')) return 'rate';
  if (name.endsWith('_usd')) return 'money';
  if (name.startsWith('render_time_s_p')) return 'seconds';
  if (name.startsWith('status: ') || name.startsWith('failures: ')) return 'count';
  return 'plain';
}

/**
 * The CSV rule: rates and probabilities to 6 decimal places (a ten-thousandth of a percentage
 * point, far below the sampling error of any CTR: at 10^6 impressions and 1% CTR the 95%
 * interval is ±0.02 points), money to the cent, multiples (ROAS) to 4 places, counts exact.
 * Fixed places, never significant digits, so a column lines up and no value is written in
 * exponent notation.
 */
const CSV_PLACES: Partial<Record<NumberKind, number>> = {
  rate: 6,
  change: 6,
  money: 2,
  multiple: 4,
};

/** One function per column, rounding its numbers for the CSV; other cells pass through. */
export function csvRounders(columns: readonly string[]): ((x: number) => number)[] {
  return columns.map((name) => {
    const places = CSV_PLACES[kindOf(name)];
    if (places === undefined) return (x) => x;
    const scale = 10 ** places;
    // + 0 turns -0 (a tiny negative rounded) into 0.
    return (x) => Math.round(x * scale) / scale + 0;
  });
}

/**
 * Excel number formats. The XLSX keeps full precision: only the display is rounded. Tiny
 * p-values show as "<0.0001" instead of a misleading 0.0000.
 */
const XLSX_FORMATS: Record<NumberKind, string | undefined> = {
  count: '#,##0',
  rate: '0.00%',
  change: '+0.0%;-0.0%;0.0%',
  money: '#,##0.00',
  multiple: '0.00',
  odds: '0.000',
  p: '[<0.0001]"<0.0001";0.0000',
  seconds: '0.0',
  plain: undefined,
};

export function xlsxFormat(name: string): string | undefined {
  return XLSX_FORMATS[kindOf(name)];
}

/** Column width in characters for a number column: wide enough for its format's longest. */
export function xlsxNumberWidth(name: string): number | undefined {
  const kind = kindOf(name);
  if (kind === 'plain') return undefined;
  return { count: 13, rate: 10, change: 10, money: 13, multiple: 10, odds: 10, p: 10, seconds: 8 }[
    kind
  ];
}
