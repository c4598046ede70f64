import { helmert } from './estimability.ts';
import { inverse } from './linalg.ts';
import type { Rng } from './rng.ts';
import { type CompiledSpace, rowAllowedAfterChange } from './space.ts';

/**
 * D-optimal polishing of a balanced design by level swaps: exchange two rows' levels in one
 * column when that raises |X'X| of the main-effects model (normalised Helmert coding). A swap
 * keeps every level count, so balance is untouched; the annealer before it evens pair counts,
 * which is not the same as maximising |X'X| once a design cannot be an orthogonal array.
 *
 * A swap of column d between rows 1 and 2 changes x₁ by e and x₂ by −e (e non-zero in d's
 * block only), so X'X gains g·eᵀ + e·gᵀ + 2e·eᵀ with g = x₁ − x₂: a rank-2 update W·C·Wᵀ,
 * W = [g e], C = [[0 1] [1 2]]. With V = (X'X + εI)⁻¹ and V·x kept for every row, its
 * determinant ratio det(I + C·WᵀVW) costs O(p·s) per candidate, and an accepted swap updates V
 * and V·x by Woodbury in O(p² + n·p). ε·I (ε = 1e-4·n) lets a singular start climb to full rank.
 * The number of candidates is a fixed count derived from the size, so the result depends only
 * on the seed.
 */
export function exchangeSwaps(
  cs: CompiledSpace,
  rows: Int32Array,
  n: number,
  cap: number,
  rng: Rng,
): Int32Array {
  const k = cs.k;
  const levels = cs.levels;
  if (n < 2 || k === 0) return rows;
  const col = new Int32Array(k + 1);
  col[0] = 1;
  for (let d = 0; d < k; d++) col[d + 1] = col[d]! + levels[d]! - 1;
  const p = col[k]!;
  const contrasts = levels.map((s) => helmert(s));
  const code = (row: Int32Array, r: number, out: Float64Array): void => {
    out[0] = 1;
    for (let d = 0; d < k; d++) {
      const w = levels[d]! - 1;
      const a = row[r * k + d]!;
      for (let j = 0; j < w; j++) out[col[d]! + j] = contrasts[d]![a * w + j]!;
    }
  };
  const x = new Float64Array(n * p);
  for (let r = 0; r < n; r++) code(rows, r, x.subarray(r * p, r * p + p));

  const eps = 1e-4 * n;
  let v: Float64Array = new Float64Array(0);
  const vx = new Float64Array(n * p);
  const refresh = (): boolean => {
    const m = new Float64Array(p * p);
    for (let r = 0; r < n; r++) {
      const xr = r * p;
      for (let i = 0; i < p; i++) {
        const xi = x[xr + i]!;
        if (xi === 0) continue;
        for (let j = 0; j < p; j++) m[i * p + j]! += xi * x[xr + j]!;
      }
    }
    for (let i = 0; i < p; i++) m[i * p + i]! += eps;
    const inv = inverse(m, p);
    if (!inv) return false;
    v = inv;
    for (let r = 0; r < n; r++)
      for (let i = 0; i < p; i++) {
        let s = 0;
        for (let j = 0; j < p; j++) s += v[i * p + j]! * x[r * p + j]!;
        vx[r * p + i] = s;
      }
    return true;
  };
  if (!refresh()) return rows;

  const keys = new Map<string, number>();
  const keyOf = (row: ArrayLike<number>) => Array.prototype.join.call(row, ',');
  for (let r = 0; r < n; r++) {
    const key = keyOf(rows.subarray(r * k, r * k + k));
    keys.set(key, (keys.get(key) ?? 0) + 1);
  }
  const maxS = Math.max(...levels);
  const candidates = Math.max(2_000, Math.min(200_000, Math.floor(4e7 / (p * maxS))));
  const constrained = cs.clauses.length > 0;
  const g = new Float64Array(p);
  const vg = new Float64Array(p);
  const ve = new Float64Array(p);
  const e = new Float64Array(maxS);
  const row1 = new Int32Array(k);
  const row2 = new Int32Array(k);
  let accepted = 0;

  for (let t = 0; t < candidates; t++) {
    const d = rng.int(k);
    const s = levels[d]!;
    const r1 = rng.int(n);
    const r2 = rng.int(n);
    const a = rows[r1 * k + d]!;
    const b = rows[r2 * k + d]!;
    if (a === b || s < 2) continue;
    const w = s - 1;
    const P = contrasts[d]!;
    for (let j = 0; j < w; j++) e[j] = P[b * w + j]! - P[a * w + j]!;
    let a11 = 0;
    let a12 = 0;
    let a22 = 0;
    for (let i = 0; i < p; i++) {
      g[i] = x[r1 * p + i]! - x[r2 * p + i]!;
      vg[i] = vx[r1 * p + i]! - vx[r2 * p + i]!;
      let sum = 0;
      for (let j = 0; j < w; j++) sum += v[i * p + col[d]! + j]! * e[j]!;
      ve[i] = sum;
      a11 += g[i]! * vg[i]!;
    }
    for (let j = 0; j < w; j++) {
      a12 += e[j]! * vg[col[d]! + j]!;
      a22 += e[j]! * ve[col[d]! + j]!;
    }
    const ratio = (1 + a12) * (1 + a12 + 2 * a22) - a22 * (a11 + 2 * a12);
    if (!(ratio > 1 + 1e-9)) continue;

    row1.set(rows.subarray(r1 * k, r1 * k + k));
    row2.set(rows.subarray(r2 * k, r2 * k + k));
    row1[d] = b;
    row2[d] = a;
    if (constrained && !(rowAllowedAfterChange(cs, row1, d) && rowAllowedAfterChange(cs, row2, d)))
      continue;
    const old1 = keyOf(rows.subarray(r1 * k, r1 * k + k));
    const old2 = keyOf(rows.subarray(r2 * k, r2 * k + k));
    const new1 = keyOf(row1);
    const new2 = keyOf(row2);
    keys.set(old1, keys.get(old1)! - 1);
    keys.set(old2, keys.get(old2)! - 1);
    const c1 = (keys.get(new1) ?? 0) + 1;
    const c2 = (keys.get(new2) ?? 0) + (new2 === new1 ? 2 : 1);
    if (c1 > cap || c2 > cap) {
      keys.set(old1, keys.get(old1)! + 1);
      keys.set(old2, keys.get(old2)! + 1);
      continue;
    }
    keys.set(new1, (keys.get(new1) ?? 0) + 1);
    keys.set(new2, (keys.get(new2) ?? 0) + 1);

    // Woodbury: V' = V − VW·K⁻¹·(VW)ᵀ, K = C⁻¹ + WᵀVW, C⁻¹ = [[−2 1] [1 0]].
    const k11 = -2 + a11;
    const k12 = 1 + a12;
    const k22 = a22;
    const det = k11 * k22 - k12 * k12;
    const i11 = k22 / det;
    const i12 = -k12 / det;
    const i22 = k11 / det;
    for (let i = 0; i < p; i++) {
      const ui = vg[i]! * i11 + ve[i]! * i12;
      const wi = vg[i]! * i12 + ve[i]! * i22;
      for (let j = 0; j < p; j++) v[i * p + j]! -= ui * vg[j]! + wi * ve[j]!;
    }
    for (let r = 0; r < n; r++) {
      let gx = 0;
      let ex = 0;
      for (let i = 0; i < p; i++) {
        gx += vg[i]! * x[r * p + i]!;
        ex += ve[i]! * x[r * p + i]!;
      }
      const cg = i11 * gx + i12 * ex;
      const ce = i12 * gx + i22 * ex;
      for (let i = 0; i < p; i++) vx[r * p + i]! -= vg[i]! * cg + ve[i]! * ce;
    }
    rows[r1 * k + d] = b;
    rows[r2 * k + d] = a;
    for (const r of [r1, r2]) {
      code(rows, r, x.subarray(r * p, r * p + p));
      for (let i = 0; i < p; i++) {
        let sum = 0;
        for (let j = 0; j < p; j++) sum += v[i * p + j]! * x[r * p + j]!;
        vx[r * p + i] = sum;
      }
    }
    // Rank-2 updates accumulate rounding: start again from X now and then.
    if (++accepted % 64 === 0 && !refresh()) break;
  }
  return rows;
}
