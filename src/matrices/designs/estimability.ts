import { columnDependencies, inverseDiagonal, logDet } from './linalg.ts';
import { type PairIndex, pairIdx } from './pairs.ts';

/**
 * What a design lets the main-effects model (intercept + one column per non-reference level,
 * p = 1 + Σ(levels − 1)) estimate. Everything comes from the level and pair counts, because
 * X'X of a main-effects model is exactly those counts: a million-row design costs its O(n·k²)
 * count plus O(p³), never O(n·p²).
 */
export interface MainEffects {
  /** 1 + Σ(levels − 1): the intercept and one effect per non-reference level. */
  parameters: number;
  /** Rank of the model matrix X. */
  rank: number;
  /** X has full column rank: every level's effect against its reference can be estimated. */
  estimable: boolean;
  /**
   * 100 · |X'X|^(1/p) / n with X in orthonormal (normalised Helmert) contrast coding, scaled so
   * that X'X = n·I for a full factorial or any orthogonal array of strength 2 (which score
   * 100); 0 when X is rank-deficient. The same figure SAS's %MktEx and R's AlgDesign report. Under
   * exclusions 100 may be out of reach.
   */
  d_efficiency: number;
  /** An orthogonal array of strength 2: every two dimensions show every level pair equally often. */
  orthogonal: boolean;
  /**
   * Non-reference levels whose effect against their dimension's reference (level 0) is not
   * estimable: their dummy column is a linear combination of the other columns, in dimension
   * then level order.
   */
  aliased: Array<{ dim: number; level: number }>;
  /**
   * Per dimension and level, (X'X)⁻¹ at that level's dummy column: the variance of its estimated
   * effect against the reference in units of one variant's variance. 0 for the reference
   * itself, null when not estimable.
   */
  level_variance: Array<Array<number | null>>;
}

/** Normalised Helmert contrasts: s×(s−1), columns orthogonal to 1 and each other, Σ_a P² = s. */
export function helmert(s: number): Float64Array {
  const out = new Float64Array(s * (s - 1));
  for (let j = 0; j < s - 1; j++) {
    const c = Math.sqrt(s / ((j + 1) * (j + 2)));
    for (let a = 0; a <= j; a++) out[a * (s - 1) + j] = c;
    out[(j + 1) * (s - 1) + j] = -(j + 1) * c;
  }
  return out;
}

/** Column where dimension d's first non-reference (or, for coded, first contrast) column sits. */
function columnOffsets(levels: Int32Array): Int32Array {
  const off = new Int32Array(levels.length + 1);
  off[0] = 1;
  for (let d = 0; d < levels.length; d++) off[d + 1] = off[d]! + levels[d]! - 1;
  return off;
}

/**
 * `counts` are pairCounts(pi, rows, n); `levelCounts` how often each level occurs (indexed by
 * pi.levelOffset).
 */
export function mainEffects(
  pi: PairIndex,
  counts: Int32Array,
  levelCounts: Int32Array,
  n: number,
): MainEffects {
  const { k, levels, levelOffset: lo } = pi;
  const col = columnOffsets(levels);
  const p = col[k]!;
  const pair = (d: number, a: number, e: number, b: number) => counts[pairIdx(pi, d, a, e, b)]!;

  // Dummy (reference) coding: the parametrisation the report fits and names levels in.
  const md = new Float64Array(p * p);
  md[0] = n;
  for (let d = 0; d < k; d++) {
    for (let a = 1; a < levels[d]!; a++) {
      const i = col[d]! + a - 1;
      const c = levelCounts[lo[d]! + a]!;
      md[i] = c;
      md[i * p] = c;
      md[i * p + i] = c;
      for (let e = d + 1; e < k; e++) {
        for (let b = 1; b < levels[e]!; b++) {
          const j = col[e]! + b - 1;
          const v = pair(d, a, e, b);
          md[i * p + j] = v;
          md[j * p + i] = v;
        }
      }
    }
  }
  const deps = columnDependencies(md, p);
  const aliased: MainEffects['aliased'] = [];
  for (let d = 0; d < k; d++)
    for (let a = 1; a < levels[d]!; a++)
      if (deps.involved[col[d]! + a - 1]) aliased.push({ dim: d, level: a });

  // Variances of the estimable effects: dropping the free columns keeps the column space and,
  // for a column in no dependency, its coefficient; the rest is full rank.
  const keep: number[] = [];
  const isFree = new Uint8Array(p);
  for (const f of deps.free) isFree[f] = 1;
  for (let j = 0; j < p; j++) if (!isFree[j]) keep.push(j);
  const q = keep.length;
  const reduced = new Float64Array(q * q);
  for (let i = 0; i < q; i++)
    for (let j = 0; j < q; j++) reduced[i * q + j] = md[keep[i]! * p + keep[j]!]!;
  const diag = q > 0 ? inverseDiagonal(reduced, q) : null;
  const at = new Map<number, number>();
  if (diag) for (let i = 0; i < q; i++) at.set(keep[i]!, diag[i]!);
  const level_variance = Array.from(levels, (s, d) =>
    Array.from({ length: s }, (_, a) => {
      if (a === 0) return 0;
      const j = col[d]! + a - 1;
      return deps.involved[j] ? null : (at.get(j) ?? null);
    }),
  );

  let d_efficiency = 0;
  if (deps.rank === p && n > 0) {
    const ld = logDet(codedInformation(pi, counts, levelCounts, n, col), p);
    if (ld !== null) d_efficiency = Math.min(100, (100 * Math.exp(ld / p)) / n);
  }

  let orthogonal = n > 0;
  for (let d = 0; d < k && orthogonal; d++) {
    const s = levels[d]!;
    if (k === 1) for (let a = 0; a < s; a++) orthogonal &&= levelCounts[lo[d]! + a]! * s === n;
    for (let e = d + 1; e < k && orthogonal; e++) {
      const cells = s * levels[e]!;
      const from = pi.base[d * k + e]!;
      for (let c = 0; c < cells && orthogonal; c++) orthogonal = counts[from + c]! * cells === n;
    }
  }

  return {
    parameters: p,
    rank: deps.rank,
    estimable: deps.rank === p,
    d_efficiency,
    orthogonal,
    aliased,
    level_variance,
  };
}

/** X'X in normalised Helmert coding, assembled block by block from the counts. */
function codedInformation(
  pi: PairIndex,
  counts: Int32Array,
  levelCounts: Int32Array,
  n: number,
  col: Int32Array,
): Float64Array {
  const { k, levels, levelOffset: lo } = pi;
  const p = col[k]!;
  const m = new Float64Array(p * p);
  const contrasts = Array.from(levels, (s) => helmert(s));
  m[0] = n;
  for (let d = 0; d < k; d++) {
    const s = levels[d]!;
    const w = s - 1;
    const P = contrasts[d]!;
    for (let i = 0; i < w; i++) {
      let sum = 0;
      for (let a = 0; a < s; a++) sum += levelCounts[lo[d]! + a]! * P[a * w + i]!;
      m[col[d]! + i] = sum;
      m[(col[d]! + i) * p] = sum;
      for (let j = 0; j < w; j++) {
        let v = 0;
        for (let a = 0; a < s; a++) v += levelCounts[lo[d]! + a]! * P[a * w + i]! * P[a * w + j]!;
        m[(col[d]! + i) * p + col[d]! + j] = v;
      }
    }
    for (let e = d + 1; e < k; e++) {
      const t = levels[e]!;
      const we = t - 1;
      const Q = contrasts[e]!;
      const from = pi.base[d * k + e]!;
      // C (s×t) · Q (t×we), then Pᵀ · that: O(s·t·we + s·w·we).
      const cq = new Float64Array(s * we);
      for (let a = 0; a < s; a++)
        for (let b = 0; b < t; b++) {
          const c = counts[from + a * t + b]!;
          if (c === 0) continue;
          for (let j = 0; j < we; j++) cq[a * we + j]! += c * Q[b * we + j]!;
        }
      for (let i = 0; i < w; i++)
        for (let j = 0; j < we; j++) {
          let v = 0;
          for (let a = 0; a < s; a++) v += P[a * w + i]! * cq[a * we + j]!;
          m[(col[d]! + i) * p + col[e]! + j] = v;
          m[(col[e]! + j) * p + col[d]! + i] = v;
        }
    }
  }
  return m;
}
