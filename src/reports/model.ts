/**
 * What the report's model is fitted on: variants with impressions and a level in every
 * dimension, one row per (variant, platform) when metrics come from more than one platform —
 * platforms are strata, since they optimise delivery and differ in CTR — or per (variant,
 * platform, date) with dates as strata too (strata.ts says when), and the fit with its
 * overdispersion measured between variants.
 */
import type { Collected } from './collect.ts';
import { MAX_DAY_CELLS } from './repository.ts';
import {
  type BinomialRow,
  type Dispersion,
  fitLogistic,
  type LogisticFit,
  variantDispersion,
} from './stats/index.ts';
import { betweenVariantDf, DATE_STRATUM, dayRows } from './strata.ts';

/** Name of the strata column group in the fit; not a valid dimension key, so it cannot clash. */
const PLATFORM_STRATUM = '(platform)';

export interface ModelData {
  rows: BinomialRow[];
  /** Model variant (0 … variants − 1) of each row. */
  group: number[];
  variants: number;
  /** Collected index of each model variant. */
  variantAt: number[];
  /** Variants without trials of the modelled metric (impressions, or clicks for CVR). */
  noImpressions: number;
  missingLevels: number;
  /** Variants with more successes than trials somewhere (view-through conversions, say). */
  beyondTrials: number;
  /** Platform names by impressions, largest first (the reference stratum); null without strata. */
  strata: string[] | null;
  /** Impressions per (platform stratum) of the model's rows, in `strata` order. */
  stratumImpressions: number[];
  /** Dates entered as strata, the reference (most impressions) first; null when not entered. */
  dates: string[] | null;
  /** Residual df the date strata are charged (strata.ts); 0 without them. */
  dateDf: number;
  /** Residual df the platform strata are charged, by the same rule as dates; 0 without them. */
  platformDf: number;
  /** Why dates are not in the model though the metrics span several; null otherwise. */
  dateNote: string | null;
}

/**
 * Between-variant share of the date columns (strata.ts) below which the variants' date mixes
 * count as the same: dates are then independent of the levels and cannot confound them, and the
 * fit stays on totals (a few percent of day-to-day delivery noise is about 0.01).
 */
const MIN_DATE_MIX = 0.05;

/** Parameters of the level columns at most: intercept and each non-reference level. */
const levelParameters = (levelCounts: readonly number[]) =>
  1 + levelCounts.reduce((s, n) => s + Math.max(0, n - 1), 0);

/**
 * What the platform strata cost the variants' residual df, by the rule strata.ts gives for
 * dates: a platform column counts in full as far as it varies between variants (variants on
 * different platforms: it can fit their totals like any level column) and not at all as far as
 * every variant splits the same way (it is then orthogonal to the totals). Summed over the
 * columns and rounded up.
 */
function platformCharge(
  rows: readonly BinomialRow[],
  group: readonly number[],
  column: number,
  strata: string[] | null,
): number {
  if (!strata || strata.length < 2) return 0;
  return Math.max(0, Math.ceil(betweenVariantDf(rows, group, column, strata.length) - 1e-9));
}

export function modelData(c: Collected, levelCounts: readonly number[]): ModelData {
  const D = levelCounts.length;
  const base = platformData(c, D);
  const days = c.daily ? dayRows(c, D, base.variantAt, base.platformRank) : null;
  const { platformRank: _, ...platforms } = base;
  const data = {
    ...platforms,
    platformDf: platformCharge(platforms.rows, platforms.group, D, platforms.strata),
  };
  const none = { dates: null, dateDf: 0 };
  if (!days) {
    return {
      ...data,
      ...none,
      dateNote:
        c.undated && data.variants > 0
          ? `dates not entered: the campaign has more than ${MAX_DAY_CELLS} metric rows, so the model uses per-platform totals`
          : null,
    };
  }
  const column = D + (data.strata ? 1 : 0);
  const between = betweenVariantDf(days.rows, days.group, column, days.dates.length);
  if (between < MIN_DATE_MIX) {
    return {
      ...data,
      ...none,
      dateNote: `dates not entered: every variant ran on the same ${days.dates.length} days in nearly the same proportions (between-variant share ${between.toPrecision(2)} df), so dates cannot confound the levels`,
    };
  }
  const df = Math.ceil(between - 1e-9);
  const free = data.variants - levelParameters(levelCounts) - data.platformDf;
  if (free - df < 1) {
    return {
      ...data,
      ...none,
      dateNote: `dates not entered: variants ran on different days, so the ${days.dates.length} date strata would cost ${df} of the ${Math.max(0, free)} residual df that measure the variation between variants`,
    };
  }
  return {
    ...data,
    rows: days.rows,
    group: days.group,
    dates: days.dates,
    dateDf: df,
    dateNote: null,
  };
}

function platformData(
  c: Collected,
  D: number,
): Omit<ModelData, 'dates' | 'dateDf' | 'dateNote' | 'platformDf'> & {
  platformRank: Int32Array | null;
} {
  const variantAt: number[] = [];
  let noImpressions = 0;
  let missingLevels = 0;
  let beyondTrials = 0;
  const beyond = (i: number) => {
    const cells = c.cells[i];
    const days = c.dayCells[i];
    if (c.successes[i]! > c.trials[i]!) return true;
    if (cells)
      for (let k = 0; k < cells.length; k += 4) if (cells[k + 3]! > cells[k + 2]!) return true;
    if (days) for (let k = 0; k < days.length; k += 5) if (days[k + 4]! > days[k + 3]!) return true;
    return false;
  };
  for (let i = 0; i < c.count; i++) {
    if (!(c.trials[i]! > 0)) noImpressions++;
    else if (c.levels.slice(i * D, i * D + D).some((l) => l < 0)) missingLevels++;
    else if (beyond(i)) beyondTrials++;
    else variantAt.push(i);
  }
  // Impressions per platform over the model's variants decide whether there are strata.
  const perPlatform = new Float64Array(c.platforms.length);
  const empty = c.platforms.indexOf('');
  for (const i of variantAt) {
    const cells = c.cells[i];
    if (!cells) perPlatform[empty]! += c.impressions[i]!;
    else for (let k = 0; k < cells.length; k += 4) perPlatform[cells[k]!]! += cells[k + 1]!;
  }
  const present = [...perPlatform.keys()].filter((k) => perPlatform[k]! > 0);
  const rows: BinomialRow[] = [];
  const group: number[] = [];
  if (present.length <= 1) {
    variantAt.forEach((i, g) => {
      rows.push({
        levels: c.levels.slice(i * D, i * D + D),
        successes: c.successes[i]!,
        trials: c.trials[i]!,
      });
      group.push(g);
    });
    return {
      rows,
      group,
      variants: variantAt.length,
      variantAt,
      noImpressions,
      missingLevels,
      beyondTrials,
      strata: null,
      stratumImpressions: [],
      platformRank: null,
    };
  }
  present.sort(
    (a, b) => perPlatform[b]! - perPlatform[a]! || (c.platforms[a]! < c.platforms[b]! ? -1 : 1),
  );
  const order = new Int32Array(c.platforms.length).fill(-1);
  present.forEach((k, rank) => {
    order[k] = rank;
  });
  variantAt.forEach((i, g) => {
    const levels = c.levels.slice(i * D, i * D + D);
    const cells = c.cells[i] ?? [empty, c.impressions[i]!, c.trials[i]!, c.successes[i]!];
    for (let k = 0; k < cells.length; k += 4) {
      if (!(cells[k + 2]! > 0)) continue;
      rows.push({
        levels: [...levels, order[cells[k]!]!],
        successes: cells[k + 3]!,
        trials: cells[k + 2]!,
      });
      group.push(g);
    }
  });
  return {
    rows,
    group,
    variants: variantAt.length,
    variantAt,
    noImpressions,
    missingLevels,
    beyondTrials,
    strata: present.map((k) => c.platforms[k]!),
    stratumImpressions: present.map((k) => perPlatform[k]!),
    platformRank: order,
  };
}

/** The strata column groups after the dimensions, in the rows' order. */
export function strataSpecs(data: ModelData): { name: string; levels: readonly string[] }[] {
  const specs: { name: string; levels: readonly string[] }[] = [];
  if (data.strata) specs.push({ name: PLATFORM_STRATUM, levels: data.strata });
  if (data.dates) specs.push({ name: DATE_STRATUM, levels: data.dates });
  return specs;
}

/**
 * The rank the variants' residual df is charged: the estimable non-strata columns, plus the
 * strata's between-variant share (dates and platforms alike: a stratum column that can fit
 * variant totals uses up df as a level column does).
 */
export function chargedRank(fit: LogisticFit, firstStratum: number, data: ModelData): number {
  const strataKept = fit.coefficients.filter(
    (k) => k.dimension !== null && k.dimension >= firstStratum && k.estimate !== null,
  ).length;
  return Math.max(1, fit.rank - strataKept + data.dateDf + data.platformDf);
}

export interface FittedModel {
  fit: LogisticFit;
  dispersion: Dispersion;
}

/** The fit and its between-variant dispersion; null without rows or dimensions. */
export function fitModel(
  dims: readonly { key: string; levels: readonly string[] }[],
  data: ModelData,
): FittedModel | null {
  if (dims.length === 0 || data.rows.length === 0) return null;
  const specs = [...dims.map((d) => ({ name: d.key, levels: d.levels })), ...strataSpecs(data)];
  const fit = fitLogistic({ dimensions: specs, rows: data.rows });
  const dispersion = variantDispersion({
    successes: data.rows.map((r) => r.successes),
    trials: data.rows.map((r) => r.trials),
    fitted: fit.fitted,
    group: data.group,
    variants: data.variants,
    rank: chargedRank(fit, dims.length, data),
  });
  return { fit, dispersion };
}

export interface LevelDelivery {
  /** The level's share of the model's variants (its share in the design as run). */
  design_share: number;
  /** Its share of impressions. */
  impression_share: number;
  /** Total variation distance between its platform mix and the overall mix; null without strata. */
  platform_mix_distance: number | null;
  warning: string | null;
}

/** Impression share at or beyond this factor of the design share counts as imbalanced. */
const SHARE_FACTOR = 1.5;
/** Platform mix further than this (total variation) from the overall mix counts as imbalanced. */
const MIX_DISTANCE = 0.15;

/** Per dimension and level: how delivery compares with the design. */
export function deliveryBalance(
  c: Collected,
  levelCounts: readonly number[],
  data: ModelData,
): LevelDelivery[][] {
  const D = levelCounts.length;
  const S = data.strata?.length ?? 0;
  const platformRank = new Map((data.strata ?? []).map((name, k) => [name, k]));
  const variants = levelCounts.map((n) => new Float64Array(n));
  const impressions = levelCounts.map((n) => new Float64Array(n));
  const mix = levelCounts.map((n) => Array.from({ length: n }, () => new Float64Array(S)));
  let total = 0;
  for (const i of data.variantAt) {
    total += c.impressions[i]!;
    for (let d = 0; d < D; d++) {
      const l = c.levels[i * D + d]!;
      variants[d]![l]! += 1;
      impressions[d]![l]! += c.impressions[i]!;
      if (!S) continue;
      const cells = c.cells[i];
      const m = mix[d]![l]!;
      if (!cells) m[platformRank.get('')!]! += c.impressions[i]!;
      else
        for (let k = 0; k < cells.length; k += 4)
          m[platformRank.get(c.platforms[cells[k]!]!)!]! += cells[k + 1]!;
    }
  }
  const overall = data.stratumImpressions.map((x) => x / total);
  return levelCounts.map((n, d) =>
    Array.from({ length: n }, (_, l): LevelDelivery => {
      const design = data.variants > 0 ? variants[d]![l]! / data.variants : 0;
      const share = total > 0 ? impressions[d]![l]! / total : 0;
      const own = impressions[d]![l]!;
      const distance =
        S && own > 0
          ? 0.5 * overall.reduce((s, o, k) => s + Math.abs(mix[d]![l]![k]! / own - o), 0)
          : null;
      const warnings: string[] = [];
      if (design > 0 && (share > SHARE_FACTOR * design || share * SHARE_FACTOR < design)) {
        warnings.push(`${pct(share)} of impressions against ${pct(design)} of the variants`);
      }
      if (distance !== null && distance > MIX_DISTANCE) {
        const top = data
          .strata!.map((name, k) => ({ name, s: mix[d]![l]![k]! / own, o: overall[k]! }))
          .sort((a, b) => b.s - b.o - (a.s - a.o))[0]!;
        warnings.push(
          `${pct(top.s)} of its impressions on ${top.name || 'the unnamed platform'} against ${pct(top.o)} overall`,
        );
      }
      return {
        design_share: design,
        impression_share: share,
        platform_mix_distance: distance,
        warning: warnings.length
          ? `delivery is imbalanced (${warnings.join('; ')}): platforms choose who sees what, so the comparison is observational${S ? '; platforms are strata in the model' : ''}`
          : null,
      };
    }),
  );
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
