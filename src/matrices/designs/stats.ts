import { DesignError } from './errors.ts';
import { type MainEffects, mainEffects } from './estimability.ts';
import {
  allowedLevels,
  allowedPairs,
  createPairIndex,
  type PairIndex,
  pairCounts,
} from './pairs.ts';
import { compileSpace } from './space.ts';
import type { DesignSpace, DesignStats } from './types.ts';

function flatten(levels: readonly number[], combinations: readonly number[][]): Int32Array {
  const k = levels.length;
  const flat = new Int32Array(combinations.length * k);
  combinations.forEach((combo, index) => {
    if (!Array.isArray(combo) || combo.length !== k) {
      throw new DesignError('invalid_combination', `combination ${index} is malformed`, {
        index,
        reason: Array.isArray(combo) ? 'wrong_dimension_count' : 'not_an_array',
      });
    }
    for (let d = 0; d < k; d++) {
      const v = combo[d]!;
      if (!Number.isInteger(v) || v < 0 || v >= levels[d]!) {
        throw new DesignError('invalid_combination', `combination ${index} is out of range`, {
          index,
          reason: 'level_out_of_range',
          dim: d,
        });
      }
      flat[index * k + d] = v;
    }
  });
  return flat;
}

function correlationFromCounts(
  pi: PairIndex,
  counts: Int32Array,
  flat: Int32Array,
  n: number,
): number {
  const { k, levels, levelOffset: off } = pi;
  const lc = new Int32Array(pi.totalLevels);
  for (let r = 0; r < n; r++) for (let d = 0; d < k; d++) lc[off[d]! + flat[r * k + d]!]!++;
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const from = pi.base[i * k + j]!;
      for (let a = 0; a < levels[i]!; a++) {
        const ca = lc[off[i]! + a]!;
        if (ca === 0 || ca === n) continue;
        for (let b = 0; b < levels[j]!; b++) {
          const cb = lc[off[j]! + b]!;
          if (cb === 0 || cb === n) continue;
          const cov = n * counts[from + a * levels[j]! + b]! - ca * cb;
          const phi = Math.abs(cov) / Math.sqrt(ca * (n - ca) * cb * (n - cb));
          if (phi > worst) worst = phi;
        }
      }
    }
  }
  return worst;
}

/**
 * Largest |Pearson correlation| between main-effect columns of two different dimensions.
 * Coding: each dimension's levels as indicator (one-hot) columns, so the value is the largest
 * |phi| over all level pairs (i=a, j=b) and does not depend on how levels are numbered (they
 * are nominal: cities, tones). It is 0 exactly when every pair of dimensions is crossed in
 * proportion to its level frequencies (e.g. any orthogonal array), and equals the usual ±1
 * column correlation for two-level factors. Constant columns (a level used in no row or in
 * every row) have no correlation and are skipped.
 */
export function maxAbsCorrelation(
  levels: readonly number[],
  combinations: readonly number[][],
): number {
  const n = combinations.length;
  if (n < 2) return 0;
  const pi = createPairIndex(levels);
  const flat = flatten(levels, combinations);
  return correlationFromCounts(pi, pairCounts(pi, flat, n), flat, n);
}

/**
 * Quality of a design over `space`. Pairs and levels that no allowed combination contains are
 * ignored (they can never be covered or balanced). Throws DesignError('invalid_combination')
 * for a combination of the wrong shape or with an out-of-range level; excluded rows are counted
 * like any other.
 */
export function designStats(space: DesignSpace, combinations: readonly number[][]): DesignStats {
  return analyseDesign(space, combinations).stats;
}

/**
 * designStats plus what the main-effects model can estimate from the design (see MainEffects),
 * from one pass of counting.
 */
export function analyseDesign(
  space: DesignSpace,
  combinations: readonly number[][],
): { stats: DesignStats; mainEffects: MainEffects } {
  const cs = compileSpace(space);
  const pi = createPairIndex(cs.levels);
  const n = combinations.length;
  const flat = flatten(cs.levels, combinations);
  const counts = pairCounts(pi, flat, n);
  const okPairs = allowedPairs(cs, pi);
  let open = 0;
  let covered = 0;
  for (let p = 0; p < pi.size; p++) {
    if (okPairs[p] !== 1) continue;
    open++;
    if (counts[p]! > 0) covered++;
  }
  const okLevels = allowedLevels(cs, pi);
  const lc = new Int32Array(pi.totalLevels);
  for (let r = 0; r < n; r++)
    for (let d = 0; d < cs.k; d++) lc[pi.levelOffset[d]! + flat[r * cs.k + d]!]!++;
  let balance = 1;
  for (let d = 0; d < cs.k; d++) {
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let a = 0; a < cs.levels[d]!; a++) {
      const i = pi.levelOffset[d]! + a;
      if (okLevels[i] !== 1) continue;
      min = Math.min(min, lc[i]!);
      max = Math.max(max, lc[i]!);
    }
    if (max > 0) balance = Math.min(balance, min / max);
    else if (min !== Number.POSITIVE_INFINITY) balance = 0;
  }
  return {
    stats: {
      pair_coverage: open === 0 ? 1 : covered / open,
      level_balance: n === 0 && cs.k > 0 ? 0 : balance,
      max_abs_correlation: n < 2 ? 0 : correlationFromCounts(pi, counts, flat, n),
    },
    mainEffects: mainEffects(pi, counts, lc, n),
  };
}
