/**
 * Textbook computations for the independent tests, sharing no code with the engine: a dense
 * Newton–Raphson logistic fit with Gauss–Jordan inversion, and t tail areas and quantiles by
 * Simpson integration of the t density.
 */
function invert(A: number[][]): number[][] {
  const n = A.length;
  const M = A.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[pivot]![c]!)) pivot = r;
    [M[c], M[pivot]] = [M[pivot]!, M[c]!];
    const d = M[c]![c]!;
    for (let j = 0; j < 2 * n; j++) M[c]![j]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]!;
      for (let j = 0; j < 2 * n; j++) M[r]![j]! -= f * M[c]![j]!;
    }
  }
  return M.map((row) => row.slice(n));
}

export function logisticFit(X: number[][], y: number[], n: number[]) {
  const p = X[0]!.length;
  let beta = Array.from({ length: p }, () => 0);
  let cov: number[][] = [];
  let mu: number[] = [];
  for (let it = 0; it < 30; it++) {
    mu = X.map((x) => 1 / (1 + Math.exp(-x.reduce((s, v, j) => s + v * beta[j]!, 0))));
    const H = Array.from({ length: p }, () => Array.from({ length: p }, () => 0));
    const g = Array.from({ length: p }, () => 0);
    X.forEach((x, i) => {
      const w = n[i]! * mu[i]! * (1 - mu[i]!);
      for (let a = 0; a < p; a++) {
        g[a]! += x[a]! * (y[i]! - n[i]! * mu[i]!);
        for (let b = 0; b < p; b++) H[a]![b]! += x[a]! * x[b]! * w;
      }
    });
    cov = invert(H);
    beta = beta.map((b, a) => b + cov[a]!.reduce((s, v, j) => s + v * g[j]!, 0));
  }
  return { beta, cov, mu };
}

/** P(|T| > t) for T ~ t(df): Simpson on the density over [0, t] and over [0, ∞) (x = u/(1 − u)). */
export function tTail(t: number, df: number): number {
  const f = (x: number) => (1 + (x * x) / df) ** (-(df + 1) / 2);
  const simpson = (g: (x: number) => number, a: number, b: number, m = 20_000) => {
    const h = (b - a) / m;
    let s = g(a) + g(b);
    for (let k = 1; k < m; k++) s += (k % 2 ? 4 : 2) * g(a + k * h);
    return (s * h) / 3;
  };
  const total = simpson((u) => (u >= 1 ? 0 : f(u / (1 - u)) / (1 - u) ** 2), 0, 1);
  return 1 - simpson(f, 0, Math.abs(t)) / total;
}

export function tQuantile(tail: number, df: number): number {
  let lo = 0;
  let hi = 50;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (tTail(mid, df) > tail) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * A stratum's df charge before rounding up, from impressions per [variant][stratum]: Σ over
 * non-reference stratum columns of the share of the column's (trial-weighted) variation that
 * lies between variants, (Σ_v N_vs²/W_v − N_s²/W) / (N_s − N_s²/W).
 */
export function betweenShare(perVariant: number[][]): number {
  const W = perVariant.flat().reduce((a, b) => a + b, 0);
  const S = perVariant[0]!.length;
  const totals = Array.from({ length: S }, (_, k) => perVariant.reduce((a, v) => a + v[k]!, 0));
  // The reference stratum is the platform with the most impressions.
  const ref = totals.indexOf(Math.max(...totals));
  let df = 0;
  for (let k = 0; k < S; k++) {
    if (k === ref) continue;
    const N = totals[k]!;
    const between = perVariant.reduce((a, v) => a + v[k]! ** 2 / v.reduce((x, y) => x + y, 0), 0);
    df += (between - (N * N) / W) / (N - (N * N) / W);
  }
  return df;
}
