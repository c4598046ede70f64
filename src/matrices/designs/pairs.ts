import { type CompiledSpace, hasCompletion } from './space.ts';

/**
 * Flat index of every (dimension, level, dimension, level) pair. The ordered lookup tables make
 * idx(c, v, c2, v2) === idx(c2, v2, c, v) without a branch on which dimension comes first,
 * which matters in the inner loops of the cover and balance searches.
 */
export interface PairIndex {
  readonly k: number;
  readonly levels: Int32Array;
  /** Total number of pairs, over all i < j. */
  readonly size: number;
  /** Start of dimension i's levels in per-level arrays. */
  readonly levelOffset: Int32Array;
  readonly totalLevels: number;
  /** For ordered (c, c2) at c*k + c2: idx = base + v*mulA + v2*mulB. */
  readonly base: Int32Array;
  readonly mulA: Int32Array;
  readonly mulB: Int32Array;
}

export function createPairIndex(levelList: readonly number[]): PairIndex {
  const k = levelList.length;
  const levels = Int32Array.from(levelList);
  const levelOffset = new Int32Array(k + 1);
  for (let i = 0; i < k; i++) levelOffset[i + 1] = levelOffset[i]! + levels[i]!;
  const base = new Int32Array(k * k);
  const mulA = new Int32Array(k * k);
  const mulB = new Int32Array(k * k);
  let size = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      base[i * k + j] = size;
      mulA[i * k + j] = levels[j]!;
      mulB[i * k + j] = 1;
      base[j * k + i] = size;
      mulA[j * k + i] = 1;
      mulB[j * k + i] = levels[j]!;
      size += levels[i]! * levels[j]!;
    }
  }
  return { k, levels, size, levelOffset, totalLevels: levelOffset[k]!, base, mulA, mulB };
}

export function pairIdx(pi: PairIndex, c: number, v: number, c2: number, v2: number): number {
  const o = c * pi.k + c2;
  return pi.base[o]! + v * pi.mulA[o]! + v2 * pi.mulB[o]!;
}

/** 1 for each level that occurs in some allowed combination, indexed by levelOffset. */
export function allowedLevels(cs: CompiledSpace, pi: PairIndex): Uint8Array {
  const out = new Uint8Array(pi.totalLevels);
  const fixed = new Int32Array(cs.k).fill(-1);
  for (let i = 0; i < cs.k; i++) {
    for (let a = 0; a < cs.levels[i]!; a++) {
      if (cs.byDim[i]!.length === 0 && a > 0) {
        out[pi.levelOffset[i]! + a] = out[pi.levelOffset[i]!]!;
        continue;
      }
      fixed[i] = a;
      out[pi.levelOffset[i]! + a] = hasCompletion(cs, fixed) ? 1 : 0;
    }
    fixed[i] = -1;
  }
  return out;
}

/**
 * 1 for each pair contained in some allowed combination. Only pairs of two dimensions that both
 * appear in exclusions need the solver: otherwise the unconstrained side can take any level,
 * so the pair is allowed exactly when its constrained level is.
 */
export function allowedPairs(cs: CompiledSpace, pi: PairIndex): Uint8Array {
  const out = new Uint8Array(pi.size);
  if (cs.empty) return out;
  if (cs.clauses.length === 0) return out.fill(1);
  const single = allowedLevels(cs, pi);
  const fixed = new Int32Array(cs.k).fill(-1);
  const k = cs.k;
  for (let i = 0; i < k; i++) {
    const si = cs.levels[i]!;
    for (let j = i + 1; j < k; j++) {
      const sj = cs.levels[j]!;
      const solve = cs.byDim[i]!.length > 0 && cs.byDim[j]!.length > 0;
      const start = pi.base[i * k + j]!;
      for (let a = 0; a < si; a++) {
        if (single[pi.levelOffset[i]! + a] !== 1) continue;
        fixed[i] = a;
        for (let b = 0; b < sj; b++) {
          if (single[pi.levelOffset[j]! + b] !== 1) continue;
          if (solve) {
            fixed[j] = b;
            out[start + a * sj + b] = hasCompletion(cs, fixed) ? 1 : 0;
          } else out[start + a * sj + b] = 1;
        }
        fixed[j] = -1;
      }
      fixed[i] = -1;
    }
  }
  return out;
}

/** Coverage count of every pair by the given rows (flat, k per row). */
export function pairCounts(pi: PairIndex, rows: ArrayLike<number>, n: number): Int32Array {
  const k = pi.k;
  const counts = new Int32Array(pi.size);
  for (let r = 0; r < n; r++) {
    const o = r * k;
    for (let i = 0; i < k; i++) {
      const vi = rows[o + i]!;
      for (let j = i + 1; j < k; j++) counts[pairIdx(pi, i, vi, j, rows[o + j]!)]!++;
    }
  }
  return counts;
}
