import { describe, expect, it } from 'vitest';
import { holm } from '../../../src/reports/stats/index.ts';
import { rng } from './helpers.ts';

describe('holm', () => {
  it('matches a hand-worked example', () => {
    // Sorted: 0.005·4 = 0.02; 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 → max(0.06, 0.04) = 0.06.
    const adj = holm([0.01, 0.04, 0.03, 0.005]);
    expect(adj[0]).toBeCloseTo(0.03, 15);
    expect(adj[1]).toBeCloseTo(0.06, 15);
    expect(adj[2]).toBeCloseTo(0.06, 15);
    expect(adj[3]).toBeCloseTo(0.02, 15);
  });

  it('leaves missing entries out of the family and returns NaN in their place', () => {
    // m = 2: 0.01·2 = 0.02, 0.04·1 = 0.04.
    const adj = holm([0.01, Number.NaN, null, 0.04, undefined]);
    expect(adj[0]).toBeCloseTo(0.02, 15);
    expect(adj[1]).toBeNaN();
    expect(adj[2]).toBeNaN();
    expect(adj[3]).toBeCloseTo(0.04, 15);
    expect(adj[4]).toBeNaN();
  });

  it('caps at 1, handles ties, empty input and a single test', () => {
    expect(holm([0.5, 0.6])).toEqual([1, 1]);
    // Ties: 0.02·3 = 0.06 for both tied values, then max(0.06, 0.9) = 0.9.
    const tied = holm([0.02, 0.9, 0.02]);
    expect(tied[0]).toBeCloseTo(0.06, 15);
    expect(tied[2]).toBeCloseTo(0.06, 15);
    expect(tied[1]).toBeCloseTo(0.9, 15);
    expect(holm([])).toEqual([]);
    expect(holm([0.03])).toEqual([0.03]);
  });

  it('agrees with the definition written as a brute-force maximum, and is monotone', () => {
    const r = rng(7);
    for (let t = 0; t < 200; t++) {
      const m = 1 + Math.floor(r() * 12);
      const p = Array.from({ length: m }, () => (r() < 0.1 ? Number.NaN : r() ** 3));
      const adj = holm(p);
      const present = p.map((v, i) => ({ v, i })).filter(({ v }) => !Number.isNaN(v));
      const k = present.length;
      for (const { v, i } of present) {
        // adj(i) = max over all p_j ≤ p_i of min(1, (k − rank_j)·p_j), rank_j = #{p < p_j}
        // (for ties the largest multiplier, which is what the step-down gives the first of them).
        let best = 0;
        for (const { v: w } of present) {
          if (w > v) continue;
          const rank = present.filter(({ v: u }) => u < w).length;
          best = Math.max(best, Math.min(1, (k - rank) * w));
        }
        expect(adj[i]).toBeCloseTo(best, 14);
        expect(adj[i]).toBeGreaterThanOrEqual(v);
      }
      const order = present.slice().sort((a, b) => a.v - b.v);
      for (let j = 1; j < order.length; j++) {
        expect(adj[order[j]!.i]!).toBeGreaterThanOrEqual(adj[order[j - 1]!.i]!);
      }
      p.forEach((v, i) => {
        if (Number.isNaN(v)) expect(adj[i]).toBeNaN();
      });
    }
  });

  it('rejects values outside [0, 1]', () => {
    expect(() => holm([0.1, 1.2])).toThrow(RangeError);
  });
});
