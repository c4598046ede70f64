import { describe, expect, it } from 'vitest';
import { wilson, Z_95 } from '../../../src/reports/stats/index.ts';
import { expectRel } from './helpers.ts';

describe('wilson', () => {
  // Newcombe (1998), Stat Med 17:857–872, Table I, method 3 (score interval), to 4 dp; the
  // 17-digit values are the roots of (x/n − t)² = z²·t(1 − t)/n found by bisection in mpmath
  // (test/reports/stats/reference.py) — the definition, not the closed form used by the code.
  it.each([
    [81, 263, [0.2553, 0.3662], [0.2552885198782742, 0.36620957698280004]],
    [15, 148, [0.0624, 0.1605], [0.06238639953073628, 0.16048724172330803]],
    [0, 20, [0, 0.1611], [0, 0.16112515805281935]],
    [1, 29, [0.0061, 0.1718], [0.006113214292762662, 0.17175521879320285]],
    [29, 29, [0.883, 1], [0.8830302015002592, 1]],
  ] as const)(
    '%d/%d matches Newcombe (4 dp) and the score-equation roots (1e-13)',
    (x, n, published, exact) => {
      const ci = wilson(x, n)!;
      expect(ci[0]).toBeCloseTo(published[0], 4);
      expect(ci[1]).toBeCloseTo(published[1], 4);
      expectRel(ci[0], exact[0], 1e-13);
      expectRel(ci[1], exact[1], 1e-13);
    },
  );

  it('keeps relative accuracy for rare events (3 clicks in a million)', () => {
    // reference.py bisection values.
    const [lo, hi] = wilson(3, 1_000_000)!;
    expectRel(lo, 0.0000010202712409681227, 1e-12);
    expectRel(hi, 0.000008821149774312435, 1e-12);
  });

  it('is exactly 0 / 1 at the boundaries and z²/(n + z²) for zero successes', () => {
    const [lo, hi] = wilson(0, 20)!;
    expect(lo).toBe(0);
    expectRel(hi, (Z_95 * Z_95) / (20 + Z_95 * Z_95), 1e-15);
    expect(wilson(7, 7)![1]).toBe(1);
  });

  it('returns null for zero trials rather than a vacuous [0, 1]', () => {
    expect(wilson(0, 0)).toBeNull();
  });

  it('narrows as z falls and collapses to the point estimate at z = 0', () => {
    const [lo90, hi90] = wilson(81, 263, 1.6448536269514722)!;
    const [lo95, hi95] = wilson(81, 263)!;
    expect(lo90).toBeGreaterThan(lo95);
    expect(hi90).toBeLessThan(hi95);
    const [lo0, hi0] = wilson(81, 263, 0)!;
    expectRel(lo0, 81 / 263, 1e-15);
    expectRel(hi0, 81 / 263, 1e-15);
  });

  it('rejects impossible counts', () => {
    expect(() => wilson(5, 4)).toThrow(RangeError);
    expect(() => wilson(-1, 4)).toThrow(RangeError);
    expect(() => wilson(1, Number.NaN)).toThrow(RangeError);
  });
});
