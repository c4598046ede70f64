/**
 * Dense symmetric linear algebra for the small (p ≲ 100) normal-equation systems of the
 * regression. Matrices are row-major Float64Array of n×n.
 */

export interface Cholesky {
  readonly n: number;
  /** Lower-triangular factor; columns of dropped indices are zero. */
  readonly L: Float64Array;
  /** 1 where the column entered the factor, 0 where it was dropped as dependent. */
  readonly kept: Uint8Array;
  readonly rank: number;
}

/**
 * Cholesky factorisation with limited pivoting, the Cholesky analogue of LINPACK's dqrdc2 used by
 * R's lm/glm: columns are taken in their given order and a column is dropped when what is left of
 * it after projecting out the earlier kept columns is ≤ relTol of its own diagonal. On a cross-
 * product matrix XᵀX that ratio is 1 − R² of column j regressed on the earlier kept ones, so the
 * test is scale-free, and "later columns aliased with earlier ones are dropped" keeps the
 * reference-coded parameterisation predictable (the intercept and lower dimensions win).
 */
export function choleskyLimitedPivot(A: Float64Array, n: number, relTol: number): Cholesky {
  const L = new Float64Array(n * n);
  const kept = new Uint8Array(n);
  let rank = 0;
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    const ajj = A[rowJ + j]!;
    let d = ajj;
    for (let k = 0; k < j; k++) d -= L[rowJ + k]! * L[rowJ + k]!;
    // `!(ajj > 0)` also catches NaN; a zero column has nothing to factor.
    if (!(ajj > 0) || !(d > relTol * ajj)) continue;
    const ljj = Math.sqrt(d);
    L[rowJ + j] = ljj;
    kept[j] = 1;
    rank++;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = A[rowI + j]!;
      for (let k = 0; k < j; k++) s -= L[rowI + k]! * L[rowJ + k]!;
      L[rowI + j] = s / ljj;
    }
  }
  return { n, L, kept, rank };
}

/** Solves A_KK x_K = b_K on the kept indices K; dropped entries of x are 0. */
export function choleskySolve(ch: Cholesky, b: ArrayLike<number>): Float64Array {
  const { n, L, kept } = ch;
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (!kept[j]) continue;
    let s = b[j]!;
    const row = j * n;
    for (let k = 0; k < j; k++) s -= L[row + k]! * y[k]!;
    y[j] = s / L[row + j]!;
  }
  for (let j = n - 1; j >= 0; j--) {
    if (!kept[j]) {
      y[j] = 0;
      continue;
    }
    let s = y[j]!;
    for (let i = j + 1; i < n; i++) s -= L[i * n + j]! * y[i]!;
    y[j] = s / L[j * n + j]!;
  }
  return y;
}

/** (A_KK)⁻¹ embedded in n×n, NaN in rows and columns of dropped indices. */
export function choleskyInverse(ch: Cholesky): Float64Array {
  const { n, kept } = ch;
  const inv = new Float64Array(n * n).fill(Number.NaN);
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (!kept[j]) continue;
    e.fill(0);
    e[j] = 1;
    const col = choleskySolve(ch, e);
    for (let i = 0; i < n; i++) if (kept[i]) inv[i * n + j] = col[i]!;
  }
  // Symmetrise: the two triangles differ by rounding only.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (inv[i * n + j]! + inv[j * n + i]!);
      inv[i * n + j] = v;
      inv[j * n + i] = v;
    }
  }
  return inv;
}

/**
 * A basis of the null space of A (for A = XᵀX, of X): one vector per dropped column k,
 * v = e_k − c with A_KK c = A_Kk, so that X v = x_k − X_K c = 0 up to the tolerance.
 */
export function nullSpace(
  ch: Cholesky,
  A: Float64Array,
): { column: number; vector: Float64Array }[] {
  const { n, kept } = ch;
  const out: { column: number; vector: Float64Array }[] = [];
  const b = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    if (kept[k]) continue;
    for (let i = 0; i < n; i++) b[i] = A[i * n + k]!;
    const c = choleskySolve(ch, b);
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = -c[i]!;
    v[k] = 1;
    out.push({ column: k, vector: v });
  }
  return out;
}
