/**
 * Binomial logistic regression (logit link, treatment coding) on aggregated rows, by Newton's
 * method — which for the canonical link is IRLS/Fisher scoring — with step-halving.
 *
 * Order of work:
 *  1. Identifiability. XᵀX over rows with trials > 0 is factored with limited pivoting
 *     (RANK_TOL on 1 − R²); coefficient j is estimable iff e_j is orthogonal to the null space
 *     of X. Non-estimable coefficients are reported with the coefficients they are aliased with;
 *     the fit uses only the kept columns (dropped ones fixed at 0). Estimable coefficients — and
 *     their variances — do not depend on which aliased columns were dropped.
 *  2. Newton/IRLS from the intercept-only start (irls.ts).
 *  3. Separation. When some MLE component is infinite the deviance still converges — the rows
 *     with 0% (100%) observed clicks are pushed towards η = −∞ (+∞) by ~1 per step, gaining
 *     less and less — so Newton stops with those rows' expected count of the never-seen
 *     outcome far below BOUNDARY_EXPECTED. Coefficients the remaining rows do not identify
 *     (same null-space test as 1.) are flagged `separation` and get no numbers. A Fisher
 *     information that is numerically singular at the fit (weights underflowed) flags its
 *     columns the same way.
 */

import {
  buildDesign,
  crossProduct,
  type Design,
  type LogisticInput,
  remapRows,
  type SparseRows,
} from './design.ts';
import { interceptOnlyDeviance, type NewtonResult, newton } from './irls.ts';
import { type Cholesky, choleskyInverse, choleskyLimitedPivot, nullSpace } from './linalg.ts';
import { normalQuantile, twoSidedP } from './normal.ts';

export interface LogisticOptions {
  /** Newton iterations (each one pass over the rows). Default 100: separated fits need ~30. */
  readonly maxIterations?: number;
  /** Coverage of the Wald intervals. Default 0.95. */
  readonly confidence?: number;
}

export interface Coefficient {
  readonly name: string;
  readonly dimension: number | null;
  readonly level: number | null;
  /** False when the design cannot separate this effect from others (see `aliased_with`). */
  readonly estimable: boolean;
  /** True when the MLE is infinite (a level or combination with 0% or 100% click-through). */
  readonly separation: boolean;
  /** Why there are no numbers; null when there are. */
  readonly reason: string | null;
  /** Names of coefficients sharing a null-space direction with this one. */
  readonly aliased_with: string[];
  /** Separated only: the direction the estimate diverges (−1: odds ratio → 0), when clear. */
  readonly direction: -1 | 1 | null;
  readonly estimate: number | null;
  readonly se: number | null;
  readonly z: number | null;
  readonly p_value: number | null;
  readonly ci: [number, number] | null;
  readonly odds_ratio: number | null;
  readonly odds_ratio_ci: [number, number] | null;
}

export interface LogisticFit {
  readonly family: 'binomial';
  readonly link: 'logit';
  readonly coding: 'treatment';
  readonly coefficients: Coefficient[];
  /** p×p inverse Fisher information; NaN in rows/columns without an estimate. */
  readonly covariance: number[][];
  readonly deviance: number;
  readonly null_deviance: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** Rows with trials > 0. */
  readonly rows: number;
  readonly parameters: number;
  /** Rank of the design over the rows used: columns kept in the fit. */
  readonly rank: number;
  readonly residual_df: number;
  readonly separation: boolean;
  readonly confidence: number;
  /** Dimension and level names, for callers that only passed counts. */
  readonly dimension_names: string[];
  readonly level_names: string[][];
  /** Fitted click probability of each input row with trials > 0, in input order. */
  readonly fitted: Float64Array;
}

/** 1 − R² below which a design column counts as a combination of earlier ones. */
export const RANK_TOL = 1e-10;
/**
 * Log-odds a separated estimate must have moved from its start before a direction is claimed;
 * genuinely diverging estimates move ~1 per Newton step for 20+ steps.
 */
const DRIFT = 5;
/**
 * Expected count of the never-observed outcome below which a 0%/100% row counts as fitted at
 * the boundary. Converged separated fits sit near 1e-14; finite fits almost never get here, and
 * the null-space test below protects those that do.
 */
const BOUNDARY_EXPECTED = 1e-6;
/** Relative size of a null-vector component that makes a coefficient part of the aliasing. */
const NULL_COMPONENT = 1e-7;

export function fitLogistic(input: LogisticInput, options: LogisticOptions = {}): LogisticFit {
  const maxIterations = options.maxIterations ?? 100;
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError('confidence must be in (0, 1)');
  const design = buildDesign(input);
  const { p } = design;

  const XtX = crossProduct(design, p);
  const rankFactor = choleskyLimitedPivot(XtX, p, RANK_TOL);
  const aliasing = involvement(rankFactor, XtX, p);
  const keptCols: number[] = [];
  const toReduced = new Int32Array(p).fill(-1);
  for (let j = 0; j < p; j++) {
    if (rankFactor.kept[j]) {
      toReduced[j] = keptCols.length;
      keptCols.push(j);
    }
  }
  const q = keptCols.length;
  const rows = q === p ? design : remapRows(design, toReduced);

  const nullDeviance = interceptOnlyDeviance(rows);
  const fit = q > 0 ? newton(rows, q, maxIterations) : null;
  const separated = fit ? separatedColumns(rows, q, fit) : new Uint8Array(0);
  const cov = fit ? choleskyInverse(fit.factor) : new Float64Array(0);

  const zc = normalQuantile(0.5 + confidence / 2);
  const coefficients: Coefficient[] = [];
  for (let j = 0; j < p; j++) {
    const base = {
      name: design.names[j]!,
      dimension: design.columnDimension[j]!,
      level: design.columnLevel[j]!,
    };
    const k = toReduced[j]!;
    // Kept columns can be non-estimable too: the kept side of an aliased pair has an arbitrary
    // value (its partner was fixed at 0).
    if (k < 0 || !fit || aliasing.involved[j]) {
      const partners = aliasing.partners[j]!;
      coefficients.push({
        ...base,
        ...EMPTY,
        estimable: false,
        separation: false,
        reason: aliasReason(design, XtX, j, partners),
        aliased_with: [...partners].map((c) => design.names[c]!),
        direction: null,
      });
      continue;
    }
    if (separated[k]) {
      // Separated estimates drift ~1 per Newton step for 20+ steps; a short move is no signal.
      const d = fit.beta[k]! - fit.start[k]!;
      coefficients.push({
        ...base,
        ...EMPTY,
        estimable: true,
        separation: true,
        reason:
          'separation: the maximum-likelihood estimate is infinite (a level or combination with 0% or 100% click-through)',
        aliased_with: [],
        direction: Math.abs(d) > DRIFT ? (d < 0 ? -1 : 1) : null,
      });
      continue;
    }
    const estimate = fit.beta[k]!;
    const se = Math.sqrt(cov[k * q + k]!);
    const z = estimate / se;
    const ci: [number, number] = [estimate - zc * se, estimate + zc * se];
    coefficients.push({
      ...base,
      estimable: true,
      separation: false,
      reason: null,
      aliased_with: [],
      direction: null,
      estimate,
      se,
      z,
      p_value: twoSidedP(z),
      ci,
      odds_ratio: Math.exp(estimate),
      odds_ratio_ci: [Math.exp(ci[0]), Math.exp(ci[1])],
    });
  }

  const covariance = Array.from({ length: p }, (_, a) =>
    Array.from({ length: p }, (_, b) => {
      const ka = toReduced[a]!;
      const kb = toReduced[b]!;
      if (ka < 0 || kb < 0 || aliasing.involved[a] || aliasing.involved[b]) return Number.NaN;
      if (separated[ka] || separated[kb]) return Number.NaN;
      return cov[ka * q + kb]!;
    }),
  );

  return {
    family: 'binomial',
    link: 'logit',
    coding: 'treatment',
    coefficients,
    covariance,
    deviance: fit ? fit.deviance : 0,
    null_deviance: nullDeviance,
    iterations: fit ? fit.iterations : 0,
    converged: fit ? fit.converged : false,
    rows: design.count,
    parameters: p,
    rank: q,
    residual_df: design.count - q,
    separation: separated.some((s) => s === 1),
    confidence,
    dimension_names: design.dimensionNames,
    level_names: design.levelNames,
    fitted: fit ? fittedRates(rows, fit.beta) : new Float64Array(rows.count),
  };
}

function fittedRates(rows: SparseRows, beta: Float64Array): Float64Array {
  const out = new Float64Array(rows.count);
  for (let i = 0; i < rows.count; i++) {
    let eta = 0;
    for (let k = rows.ptr[i]!; k < rows.ptr[i + 1]!; k++) eta += beta[rows.col[k]!]!;
    out[i] = 1 / (1 + Math.exp(-eta));
  }
  return out;
}

function aliasReason(design: Design, XtX: Float64Array, j: number, partners: Set<number>): string {
  const { p } = design;
  if (XtX[j * p + j] === 0) return 'no impressions at this level';
  const dim = design.columnDimension[j];
  if (dim !== null && dim !== undefined) {
    // Rows at the reference level are those with none of the dimension's dummies set.
    let atReference = XtX[0]!;
    for (let l = 1; l < design.levelCounts[dim]!; l++) {
      const c = design.offsets[dim]! + l;
      atReference -= XtX[c * p + c]!;
    }
    if (atReference === 0) return 'the reference level of this dimension has no impressions';
  }
  const names = [...partners].map((c) => design.names[c]).join(', ');
  return `confounded with ${names}: the design cannot separate these effects`;
}

const EMPTY = {
  estimate: null,
  se: null,
  z: null,
  p_value: null,
  ci: null,
  odds_ratio: null,
  odds_ratio_ci: null,
} as const;

/** For each column, the other columns that share a null-space vector with it. */
function involvement(
  factor: Cholesky,
  A: Float64Array,
  p: number,
): { involved: Uint8Array; partners: Set<number>[] } {
  const involved = new Uint8Array(p);
  const partners = Array.from({ length: p }, () => new Set<number>());
  for (const { vector } of nullSpace(factor, A)) {
    const scale = Math.max(...vector.map(Math.abs));
    const members: number[] = [];
    for (let j = 0; j < p; j++) if (Math.abs(vector[j]!) > NULL_COMPONENT * scale) members.push(j);
    for (const j of members) {
      involved[j] = 1;
      for (const m of members) if (m !== j) partners[j]!.add(m);
    }
  }
  return { involved, partners };
}

/**
 * Reduced columns whose estimates diverge. Boundary rows are those with 0% (100%) observed
 * clicks whose fitted expected count of the never-observed outcome has fallen below
 * BOUNDARY_EXPECTED; a coefficient is separated when the other rows do not identify it. The
 * null-space test is the safeguard against rare-but-finite levels: a level with one click in a
 * billion still has that row in the interior, so it stays estimable however small its rate.
 */
function separatedColumns(rows: SparseRows, q: number, fit: NewtonResult): Uint8Array {
  const out = new Uint8Array(q);
  for (let j = 0; j < q; j++) if (!fit.factor.kept[j]) out[j] = 1;
  const { ptr, col, y, n } = rows;
  const interior = new Uint8Array(rows.count);
  let boundary = 0;
  for (let i = 0; i < rows.count; i++) {
    let eta = 0;
    for (let k = ptr[i]!; k < ptr[i + 1]!; k++) eta += fit.beta[col[k]!]!;
    const yi = y[i]!;
    const ni = n[i]!;
    const atZero = yi === 0 && ni / (1 + Math.exp(-eta)) < BOUNDARY_EXPECTED;
    const atOne = yi === ni && ni / (1 + Math.exp(eta)) < BOUNDARY_EXPECTED;
    if (atZero || atOne) boundary++;
    else interior[i] = 1;
  }
  if (boundary === 0) return out;
  const identity = new Int32Array(q).map((_, j) => j);
  const inner = remapRows(rows, identity, interior);
  const A = crossProduct(inner, q);
  const { involved } = involvement(choleskyLimitedPivot(A, q, RANK_TOL), A, q);
  for (let j = 0; j < q; j++) if (involved[j]) out[j] = 1;
  return out;
}
