import { describe, expect, it } from 'vitest';
import {
  normalCdf,
  normalPdf,
  normalQuantile,
  normalSf,
  twoSidedP,
} from '../../../src/reports/stats/index.ts';
import { expectRel } from './helpers.ts';

// Expected values: mpmath 1.3 `ncdf` / `sqrt(2)·erfinv(2p − 1)` at 50 digits, printed by
// test/reports/stats/reference.py (17 digits there; written here as the nearest double).
describe('normalCdf', () => {
  it.each([
    [-37.5, 4.605353009581955e-308],
    [-10, 7.619853024160525e-24],
    [-5, 2.866515718791939e-7],
    [-1.959963984540054, 0.025000000000000015],
    [-1, 0.15865525393145705],
    [0.5, 0.6914624612740131],
    [1, 0.8413447460685429],
    [3, 0.9986501019683699],
    [8, 0.9999999999999993],
  ])('Φ(%d) matches mpmath to 1e-14 relative', (x, expected) => {
    expectRel(normalCdf(x), expected, 1e-14);
  });

  it('is exact at the centre and the infinities, NaN-propagating', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(normalCdf(Number.NaN)).toBeNaN();
  });

  it('is continuous where it switches from the series to the continued fraction (|x| = 1.5)', () => {
    // Both sides agree with Φ's derivative φ(1.5): a jump would show up as a slope error.
    const h = 1e-7;
    const slope = (normalCdf(-1.5 + h) - normalCdf(-1.5 - h)) / (2 * h);
    expectRel(slope, normalPdf(1.5), 1e-7);
  });

  it('keeps Φ(x) + Q(x) = 1 and symmetric tails', () => {
    for (const x of [-6, -2.2, -0.3, 0.7, 1.49, 1.51, 4]) {
      expect(normalCdf(x) + normalSf(x)).toBeCloseTo(1, 15);
      expect(normalSf(x)).toBe(normalCdf(-x));
    }
  });
});

describe('normalQuantile', () => {
  it('gives Φ⁻¹(0.975) = 1.959963984540054 (and its mirror)', () => {
    expect(Math.abs(normalQuantile(0.975) - 1.959963984540054)).toBeLessThan(1e-14);
    // Not bitwise: the double 1 − 0.975 is not the double 0.025.
    expect(Math.abs(normalQuantile(0.025) + 1.959963984540054)).toBeLessThan(1e-14);
  });

  it.each([
    [1e-10, -6.361340902404057],
    [1e-300, -37.0470962993612],
    [0.6, 0.2533471031357998],
    [0.999, 3.0902323061678136],
  ])('Φ⁻¹(%d) matches mpmath to 1e-14 relative', (p, expected) => {
    expectRel(normalQuantile(p), expected, 1e-14);
  });

  it('inverts normalCdf to within the conditioning of the problem', () => {
    for (let x = -30; x <= 8; x += 0.173) {
      // Φ(x) is known to about ε·max(Φ, ...) relative in the lower half and to ε absolute in the
      // upper half, so Φ⁻¹ can only return x to ~that error divided by the slope φ(x).
      const pErr = x < 0 ? 4 * Number.EPSILON * normalCdf(x) : 2 * Number.EPSILON;
      const bound = Math.max(pErr / normalPdf(x), 4 * Number.EPSILON * Math.abs(x));
      expect(Math.abs(normalQuantile(normalCdf(x)) - x)).toBeLessThanOrEqual(bound);
    }
  });

  it('handles the edges', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(Number.NaN)).toBeNaN();
  });
});

describe('twoSidedP', () => {
  it('is 2·Φ(−|z|): 0.05 at z = ±1.96, tiny tails kept relative', () => {
    // 2 × 0.025000000000000015 (the Φ(−1.959963984540054) value above).
    expectRel(twoSidedP(1.959963984540054), 0.05000000000000003, 1e-14);
    expect(twoSidedP(-1.959963984540054)).toBe(twoSidedP(1.959963984540054));
    // 2 × Φ(−10) from above.
    expectRel(twoSidedP(10), 1.523970604832105e-23, 1e-14);
    expect(twoSidedP(0)).toBe(1);
    expect(twoSidedP(Number.NaN)).toBeNaN();
  });
});
