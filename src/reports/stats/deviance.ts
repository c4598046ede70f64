/**
 * Binomial deviance contributions, computed so that they stay accurate when the fit is close —
 * which is exactly when huge impression counts make the textbook form cancel.
 */

/**
 * x·log(x/m) + m − x ≥ 0 (Loader's "bd0"). With v = (x − m)/(x + m), log(x/m) = 2·atanh(v), and
 * the expression equals v·(x − m) + 2x·(v³/3 + v⁵/5 + …): every term ≥ 0, no cancellation.
 */
export function bd0(x: number, m: number): number {
  if (x === 0) return m;
  if (m === 0) return Number.POSITIVE_INFINITY;
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    const v = (x - m) / (x + m);
    const v2 = v * v;
    let s = (x - m) * v;
    let term = 2 * x * v;
    for (let j = 1; j < 1000; j++) {
      term *= v2;
      const next = s + term / (2 * j + 1);
      if (next === s) return s;
      s = next;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

/**
 * 2·[y·log(y/μ̂) + (n − y)·log((n − y)/(n − μ̂))] for one row with fitted successes `fitted` and
 * fitted failures `fittedFailures` (passed separately so n − μ̂ is never formed by subtraction).
 * The linear terms of the two bd0s cancel exactly because fitted + fittedFailures = n.
 */
export function binomialDeviance(
  y: number,
  n: number,
  fitted: number,
  fittedFailures: number,
): number {
  return 2 * (bd0(y, fitted) + bd0(n - y, fittedFailures));
}
