/**
 * Newton's method for the binomial logit likelihood on sparse 0/1 rows — for the canonical link
 * the same iteration as IRLS/Fisher scoring. Each iteration is one pass over the rows that
 * accumulates the deviance, the score g = Xᵀ(y − nμ) and the information H = XᵀWX (upper
 * triangle, W = nμ(1 − μ)) without ever forming X; the step solves H·δ = g by Cholesky.
 *
 * Stopping rule: the Newton decrement λ² = gᵀH⁻¹g is the deviance decrease the quadratic model
 * predicts. Once it is below CONVERGE_DECREMENT the step is taken anyway (quadratic convergence
 * makes the result exact to rounding) and H is re-evaluated at the final point for the
 * covariance. Step-halving guards the early steps: a candidate is kept only if the deviance does
 * not rise beyond rounding noise.
 */

import { type SparseRows, symmetriseUpper } from './design.ts';
import { binomialDeviance } from './deviance.ts';
import { type Cholesky, choleskyLimitedPivot, choleskySolve } from './linalg.ts';

/** Relative pivot below which the Fisher information counts as singular at the fit. */
const INFO_TOL = 1e-13;
/** Deviance units; rounding noise in λ² is ~ε²·total clicks, far below this. */
const CONVERGE_DECREMENT = 1e-14;
const MAX_HALVINGS = 30;

export interface NewtonResult {
  beta: Float64Array;
  deviance: number;
  iterations: number;
  converged: boolean;
  /** Factor of the Fisher information at `beta`. */
  factor: Cholesky;
  /** Starting values, to tell how far a diverging estimate has moved. */
  start: Float64Array;
}

export function newton(rows: SparseRows, q: number, maxIterations: number): NewtonResult {
  let beta = new Float64Array(q);
  let sy = 0;
  let sn = 0;
  for (let i = 0; i < rows.count; i++) {
    sy += rows.y[i]!;
    sn += rows.n[i]!;
  }
  // Column 0 is the intercept whenever any row is used: nothing precedes it to alias it.
  beta[0] = Math.log((sy + 0.5) / (sn - sy + 0.5));
  const start = beta.slice();
  let H = new Float64Array(q * q);
  let g = new Float64Array(q);
  let deviance = accumulate(rows, q, beta, H, g);
  let candH = new Float64Array(q * q);
  let candG = new Float64Array(q);
  let iterations = 0;
  let converged = false;
  for (;;) {
    const factor = choleskyLimitedPivot(H, q, INFO_TOL);
    const delta = choleskySolve(factor, g);
    let decrement = 0;
    for (let j = 0; j < q; j++) decrement += g[j]! * delta[j]!;
    if (converged || iterations >= maxIterations) {
      return { beta, deviance, iterations, converged, factor, start };
    }
    iterations++;
    const small = decrement < CONVERGE_DECREMENT;
    let step = 1;
    let accepted = false;
    for (let h = 0; h <= MAX_HALVINGS && !accepted; h++, step /= 2) {
      const cand = new Float64Array(q);
      for (let j = 0; j < q; j++) cand[j] = beta[j]! + step * delta[j]!;
      candH.fill(0);
      candG.fill(0);
      const dev = accumulate(rows, q, cand, candH, candG);
      // Rounding in a large deviance can hide the true decrease of a near-converged step.
      if (small || dev <= deviance + 1e-12 * (Math.abs(deviance) + 1)) {
        beta = cand;
        deviance = dev;
        [H, candH] = [candH, H];
        [g, candG] = [candG, g];
        accepted = true;
      }
    }
    // No decrease along the Newton direction: the optimum is as good as floating point allows.
    if (small || !accepted) converged = small || decrement < 1e-6;
    if (!accepted) return { beta, deviance, iterations, converged, factor, start };
  }
}

/**
 * One pass over the rows at `beta`: adds the Fisher information (upper triangle, then mirrored)
 * into H and the score into g, and returns the deviance.
 */
function accumulate(
  rows: SparseRows,
  q: number,
  beta: Float64Array,
  H: Float64Array,
  g: Float64Array,
): number {
  const { ptr, col, y, n } = rows;
  let deviance = 0;
  for (let i = 0; i < rows.count; i++) {
    const start = ptr[i]!;
    const end = ptr[i + 1]!;
    let eta = 0;
    for (let k = start; k < end; k++) eta += beta[col[k]!]!;
    // μ and 1 − μ each from their own exp so neither is formed by subtraction.
    let mu: number;
    let nu: number;
    if (eta >= 0) {
      const t = Math.exp(-eta);
      mu = 1 / (1 + t);
      nu = t / (1 + t);
    } else {
      const t = Math.exp(eta);
      mu = t / (1 + t);
      nu = 1 / (1 + t);
    }
    const ni = n[i]!;
    const yi = y[i]!;
    const w = ni * mu * nu;
    const r = mu < 0.5 ? yi - ni * mu : ni * nu - (ni - yi);
    deviance += binomialDeviance(yi, ni, ni * mu, ni * nu);
    for (let a = start; a < end; a++) {
      const ca = col[a]!;
      g[ca]! += r;
      const base = ca * q;
      for (let b = a; b < end; b++) H[base + col[b]!]! += w;
    }
  }
  symmetriseUpper(H, q);
  return deviance;
}

export function interceptOnlyDeviance(rows: SparseRows): number {
  let sy = 0;
  let sn = 0;
  for (let i = 0; i < rows.count; i++) {
    sy += rows.y[i]!;
    sn += rows.n[i]!;
  }
  if (sn === 0) return 0;
  const pi = sy / sn;
  const pf = (sn - sy) / sn;
  let dev = 0;
  for (let i = 0; i < rows.count; i++) {
    dev += binomialDeviance(rows.y[i]!, rows.n[i]!, rows.n[i]! * pi, rows.n[i]! * pf);
  }
  return dev;
}
