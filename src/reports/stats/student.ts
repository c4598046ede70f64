/**
 * Student's t distribution: the reference distribution of a Wald statistic whose variance was
 * scaled by a dispersion estimated on `df` residual degrees of freedom (quasi-likelihood).
 *
 * The two-sided tail is the regularized incomplete beta I_x(df/2, ½) at x = df/(df + t²), by the
 * continued fraction of Numerical Recipes §6.4 (modified Lentz). x and 1 − x are formed
 * separately (1 − x = t²/(df + t²)), so tail p-values keep their relative accuracy; the
 * complement 1 − I is only taken where the result is near 1 and nothing is lost. Infinite df is
 * the normal distribution.
 */
import { normalQuantile, twoSidedP } from './normal.ts';

const EPS = Number.EPSILON;
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
  12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for I_x(a, b) (NR betacf); converges fast for x < (a + 1)/(a + b + 2). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 100_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= EPS) break;
  }
  return h;
}

/** I_x(a, b) given x and 1 − x, each computed without cancellation by the caller. */
export function incompleteBeta(a: number, b: number, x: number, xc: number): number {
  if (x <= 0) return 0;
  if (xc <= 0) return 1;
  const lbeta = logGamma(a) + logGamma(b) - logGamma(a + b);
  const front = Math.exp(a * Math.log(x) + b * Math.log(xc) - lbeta);
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(a, b, x)) / a;
  return 1 - (front * betaFraction(b, a, xc)) / b;
}

/** Two-sided p-value 2·P(T_df > |t|). */
export function studentTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (!Number.isFinite(df)) return twoSidedP(t);
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  return Math.min(1, incompleteBeta(df / 2, 0.5, df / (df + t2), t2 / (df + t2)));
}

/** P(T_df ≤ t). */
export function studentCdf(t: number, df: number): number {
  const half = studentTwoSidedP(t, df) / 2;
  return t < 0 ? half : 1 - half;
}

/**
 * The t with two-sided tail `alpha`: P(|T_df| > t) = alpha. Newton on the log tail from the
 * normal quantile, safeguarded by bisection; accurate to ~1e-12 relative.
 */
export function studentQuantileTwoSided(alpha: number, df: number): number {
  if (!(alpha > 0 && alpha <= 1) || !(df > 0)) return Number.NaN;
  const z = normalQuantile(1 - alpha / 2);
  if (!Number.isFinite(df)) return z;
  let lo = 0;
  let hi = Math.max(1, z);
  while (studentTwoSidedP(hi, df) > alpha) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Number.POSITIVE_INFINITY;
  }
  let t = Math.min(Math.max(z, lo), hi);
  const target = Math.log(alpha);
  for (let i = 0; i < 200; i++) {
    const p = studentTwoSidedP(t, df);
    const f = Math.log(p) - target;
    if (f > 0) lo = t;
    else hi = t;
    // d log p / dt = −2·pdf(t)/p.
    const pdf = Math.exp(
      logGamma((df + 1) / 2) -
        logGamma(df / 2) -
        0.5 * Math.log(df * Math.PI) -
        ((df + 1) / 2) * Math.log1p((t * t) / df),
    );
    let next = t + (f * p) / (2 * pdf);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-14 * t || hi - lo <= 1e-14 * hi) return next;
    t = next;
  }
  return t;
}

/** Upper tail P(F > f) of the F distribution with (d1, d2) degrees of freedom. */
export function fUpperTail(f: number, d1: number, d2: number): number {
  if (Number.isNaN(f) || !(d1 > 0) || !(d2 > 0)) return Number.NaN;
  if (f <= 0) return 1;
  if (!Number.isFinite(f)) return 0;
  // P(F > f) = I_{d2/(d2 + d1·f)}(d2/2, d1/2).
  const s = d2 + d1 * f;
  return incompleteBeta(d2 / 2, d1 / 2, d2 / s, (d1 * f) / s);
}
