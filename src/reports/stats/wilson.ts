/** z for a two-sided 95% interval, Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;

/**
 * Wilson score interval for a binomial proportion (Wilson 1927; Newcombe 1998, method 3).
 *
 * Returns null when trials = 0: there is no estimate to put an interval around, and [0, 1]
 * would read as data. Counts need not be integers (weighted data), but must satisfy
 * 0 ≤ successes ≤ trials.
 *
 * With a = x + z²/2 and b = z·√(x(n−x)/n + z²/4) the bounds are (a ∓ b)/(n + z²). The lower
 * one subtracts nearly equal numbers when x is small (≈16× cancellation at x = 1, about a
 * digit); since a² − b² = x²(n + z²)/n it equals x²/(n·(a + b)), which has no subtraction.
 */
export function wilson(
  successes: number,
  trials: number,
  z: number = Z_95,
): [lo: number, hi: number] | null {
  if (!Number.isFinite(successes) || !Number.isFinite(trials) || !Number.isFinite(z)) {
    throw new RangeError('wilson: successes, trials and z must be finite');
  }
  if (trials < 0 || successes < 0 || successes > trials) {
    throw new RangeError(`wilson: need 0 ≤ successes ≤ trials, got ${successes}/${trials}`);
  }
  if (z < 0) throw new RangeError('wilson: z must be non-negative');
  if (trials === 0) return null;
  const x = successes;
  const n = trials;
  const z2 = z * z;
  const a = x + z2 / 2;
  const b = z * Math.sqrt((x * (n - x)) / n + z2 / 4);
  const lo = x === 0 ? 0 : (x * x) / (n * (a + b));
  const hi = x === n ? 1 : Math.min(1, (a + b) / (n + z2));
  return [lo, hi];
}
