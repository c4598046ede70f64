/**
 * The little dense linear algebra the main-effects analysis needs, on row-major p×p
 * Float64Arrays. Designs have p = 1 + Σ(levels − 1) parameters, a few hundred at most, so the
 * O(p³) eliminations here cost milliseconds; hand-written to keep the design library free of
 * dependencies.
 */

/**
 * Linear dependencies among the columns of a symmetric positive semi-definite matrix M = X'X
 * (which has the null space of X). Gauss–Jordan with partial row pivoting, columns in order, on
 * a copy scaled to a unit diagonal (columns of different frequencies compare on one tolerance).
 * A column whose remaining entries are all below `tol` is `free`: a linear combination of the
 * pivot columns before it. `involved[j]` is 1 when column j takes part in some dependency
 * (a free column, or a pivot column with a non-zero coefficient in a free column's
 * combination): exactly the columns whose coefficient the model cannot estimate.
 */
export function columnDependencies(
  m: Float64Array,
  p: number,
  tol = 1e-9,
): { rank: number; free: number[]; involved: Uint8Array } {
  const a = new Float64Array(p * p);
  const scale = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    const d = m[i * p + i]!;
    scale[i] = d > 0 ? 1 / Math.sqrt(d) : 0;
  }
  for (let i = 0; i < p; i++)
    for (let j = 0; j < p; j++) a[i * p + j] = m[i * p + j]! * scale[i]! * scale[j]!;
  const involved = new Uint8Array(p);
  const free: number[] = [];
  const pivotCol: number[] = [];
  let row = 0;
  for (let col = 0; col < p; col++) {
    let best = row;
    let bestAbs = 0;
    for (let r = row; r < p; r++) {
      const v = Math.abs(a[r * p + col]!);
      if (v > bestAbs) {
        bestAbs = v;
        best = r;
      }
    }
    if (row >= p || bestAbs < tol) {
      free.push(col);
      continue;
    }
    if (best !== row) {
      for (let j = 0; j < p; j++) {
        const t = a[row * p + j]!;
        a[row * p + j] = a[best * p + j]!;
        a[best * p + j] = t;
      }
    }
    const inv = 1 / a[row * p + col]!;
    for (let j = col; j < p; j++) a[row * p + j]! *= inv;
    for (let r = 0; r < p; r++) {
      if (r === row) continue;
      const f = a[r * p + col]!;
      if (f === 0) continue;
      for (let j = col; j < p; j++) a[r * p + j]! -= f * a[row * p + j]!;
    }
    pivotCol.push(col);
    row++;
  }
  // The null vector of free column f is e_f − Σ_r R[r][f] e_{pivotCol[r]}.
  for (const f of free) {
    involved[f] = 1;
    for (let r = 0; r < pivotCol.length; r++)
      if (Math.abs(a[r * p + f]!) > 1e-7) involved[pivotCol[r]!] = 1;
  }
  return { rank: pivotCol.length, free, involved };
}

/** Lower Cholesky factor of a symmetric positive definite matrix, or null when it is not. */
export function cholesky(m: Float64Array, p: number): Float64Array | null {
  const l = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    let d = m[j * p + j]!;
    for (let k = 0; k < j; k++) d -= l[j * p + k]! ** 2;
    if (!(d > 1e-12 * Math.max(1, Math.abs(m[j * p + j]!)))) return null;
    const ljj = Math.sqrt(d);
    l[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let s = m[i * p + j]!;
      for (let k = 0; k < j; k++) s -= l[i * p + k]! * l[j * p + k]!;
      l[i * p + j] = s / ljj;
    }
  }
  return l;
}

/** log |M| of a symmetric positive definite matrix (logs: |X'X| overflows for large n·p). */
export function logDet(m: Float64Array, p: number): number | null {
  const l = cholesky(m, p);
  if (!l) return null;
  let s = 0;
  for (let i = 0; i < p; i++) s += Math.log(l[i * p + i]!);
  return 2 * s;
}

/** Diagonal of M⁻¹ for a symmetric positive definite M, or null when it is not. */
export function inverseDiagonal(m: Float64Array, p: number): Float64Array | null {
  const l = cholesky(m, p);
  if (!l) return null;
  // (M⁻¹)_jj = ‖L⁻¹ e_j‖²: forward-solve each unit vector.
  const out = new Float64Array(p);
  const y = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    y.fill(0);
    let sum = 0;
    for (let i = j; i < p; i++) {
      let s = i === j ? 1 : 0;
      for (let k = j; k < i; k++) s -= l[i * p + k]! * y[k]!;
      y[i] = s / l[i * p + i]!;
      sum += y[i]! ** 2;
    }
    out[j] = sum;
  }
  return out;
}

/** M⁻¹ of a symmetric positive definite matrix (through its Cholesky factor), or null. */
export function inverse(m: Float64Array, p: number): Float64Array | null {
  const l = cholesky(m, p);
  if (!l) return null;
  // L⁻¹ column by column, then M⁻¹ = L⁻ᵀ·L⁻¹.
  const li = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    for (let i = j; i < p; i++) {
      let s = i === j ? 1 : 0;
      for (let k = j; k < i; k++) s -= l[i * p + k]! * li[k * p + j]!;
      li[i * p + j] = s / l[i * p + i]!;
    }
  }
  const out = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < p; k++) s += li[k * p + i]! * li[k * p + j]!;
      out[i * p + j] = s;
      out[j * p + i] = s;
    }
  }
  return out;
}
