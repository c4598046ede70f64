import { describe, expect, it } from 'vitest';
import { galoisField, MAX_FIELD, raoHamming } from '../../../src/matrices/designs/gf.ts';
import {
  type DesignSpace,
  designStats,
  generateDesign,
  maxAbsCorrelation,
} from '../../../src/matrices/designs/index.ts';

describe('designStats', () => {
  it('scores a full factorial as perfect', () => {
    const space = { levels: [3, 2, 4], exclusions: [] };
    const { combinations } = generateDesign(space, { type: 'full' }, { maxVariants: 100 });
    expect(designStats(space, combinations)).toEqual({
      pair_coverage: 1,
      level_balance: 1,
      max_abs_correlation: 0,
    });
  });

  it('measures partial coverage, imbalance and correlation', () => {
    const space = { levels: [2, 2], exclusions: [] };
    const rows = [
      [0, 0],
      [0, 0],
      [1, 1],
    ];
    const stats = designStats(space, rows);
    expect(stats.pair_coverage).toBe(0.5);
    expect(stats.level_balance).toBe(0.5);
    expect(stats.max_abs_correlation).toBeCloseTo(1, 12);
    // Hand check of phi on a 4-row design: counts (0,0)=2 (0,1)=0 (1,0)=1 (1,1)=1.
    const phi = maxAbsCorrelation(
      [2, 2],
      [
        [0, 0],
        [0, 0],
        [1, 0],
        [1, 1],
      ],
    );
    expect(phi).toBeCloseTo(Math.abs(4 * 2 - 2 * 3) / Math.sqrt(2 * 2 * 3 * 1), 12);
  });

  it('ignores pairs and levels that exclusions make impossible', () => {
    const space: DesignSpace = {
      levels: [3, 2],
      exclusions: [
        [{ dim: 0, levels: [2] }],
        [
          { dim: 0, levels: [0] },
          { dim: 1, levels: [1] },
        ],
      ],
    };
    // Allowed pairs: (0,0) (1,0) (1,1); level 2 of dim 0 never allowed.
    const stats = designStats(space, [
      [0, 0],
      [1, 1],
    ]);
    expect(stats.pair_coverage).toBeCloseTo(2 / 3, 12);
    expect(stats.level_balance).toBe(1);
  });

  it('rejects malformed combinations', () => {
    expect(() => designStats({ levels: [2], exclusions: [] }, [[2]])).toThrow(
      expect.objectContaining({ code: 'invalid_combination' }),
    );
  });
});

describe('Galois fields and Rao–Hamming arrays', () => {
  for (const q of [2, 3, 4, 5, 7, 8, 9, 16, 25, 27]) {
    it(`GF(${q}) is a field`, () => {
      const { add, mul } = galoisField(q);
      for (let a = 0; a < q; a++) {
        expect(add[a * q]).toBe(a);
        expect(mul[a * q + 1]).toBe(a);
        if (a > 0) {
          let inverses = 0;
          for (let b = 0; b < q; b++) if (mul[a * q + b] === 1) inverses++;
          expect(inverses, `inverse of ${a}`).toBe(1);
        }
        for (let b = 0; b < q; b++) {
          expect(mul[a * q + b]).toBe(mul[b * q + a]);
          for (let c = 0; c < q; c += Math.max(1, Math.floor(q / 5))) {
            expect(mul[a * q + add[b * q + c]!]).toBe(add[mul[a * q + b]! * q + mul[a * q + c]!]);
          }
        }
      }
    });
  }

  it('GF(4) is not arithmetic mod 4', () => {
    const { mul } = galoisField(4);
    expect(mul[2 * 4 + 2]).not.toBe(0);
  });

  it('refuses sizes that are not prime powers or too large', () => {
    expect(() => galoisField(6)).toThrow(RangeError);
    expect(() => galoisField(MAX_FIELD + 1)).toThrow(RangeError);
  });

  it('builds strength-2 arrays with every column', () => {
    for (const [q, m] of [
      [2, 4],
      [3, 3],
      [4, 2],
      [8, 2],
    ] as const) {
      const k = (q ** m - 1) / (q - 1);
      const flat = raoHamming(q, m, k);
      const n = q ** m;
      const rows = Array.from({ length: n }, (_, r) => Array.from(flat.subarray(r * k, r * k + k)));
      expect(maxAbsCorrelation(new Array(k).fill(q), rows)).toBeLessThan(1e-12);
      const seen = new Set(rows.map((r) => `${r[0]},${r[k - 1]}`));
      expect(seen.size).toBe(q * q);
    }
  });
});
