import { describe, expect, it } from 'vitest';
import { type DesignSpace, generateDesign } from '../../../src/matrices/designs/index.ts';
import { createRowSampler } from '../../../src/matrices/designs/sample.ts';
import { compileSpace } from '../../../src/matrices/designs/space.ts';
import { bruteAllowed, bruteAllowedCombos, createRng } from './helpers.ts';

const LIMIT = { maxVariants: 100_000 };

function sample(space: DesignSpace, n: number, seed?: number): number[][] {
  return generateDesign(space, { type: 'sample', n, seed }, LIMIT).combinations;
}

const rare: DesignSpace = {
  // 10^20 with only 1/1000 allowed: rejection sampling would be hopeless, so this exercises the
  // count-guided sampler.
  levels: new Array<number>(20).fill(10),
  exclusions: [
    [{ dim: 0, levels: [1, 2, 3, 4, 5, 6, 7, 8, 9] }],
    [{ dim: 1, levels: [1, 2, 3, 4, 5, 6, 7, 8, 9] }],
    [
      { dim: 2, levels: [0] },
      { dim: 3, levels: [0, 1, 2, 3, 4, 5, 6, 7, 8] },
    ],
    [
      { dim: 2, levels: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
      { dim: 3, levels: [9] },
    ],
  ],
};

describe('sample design', () => {
  it('returns n distinct allowed rows, deterministic per seed', () => {
    const space: DesignSpace = {
      levels: [5, 4, 3, 6],
      exclusions: [
        [
          { dim: 0, levels: [0, 1] },
          { dim: 1, levels: [2] },
        ],
      ],
    };
    const rows = sample(space, 40, 11);
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.join())).size).toBe(40);
    for (const r of rows) expect(bruteAllowed(space, r)).toBe(true);
    expect(sample(space, 40, 11)).toEqual(rows);
    expect(sample(space, 40, 12)).not.toEqual(rows);
  });

  it('returns every allowed combination when n reaches the allowed count', () => {
    const space: DesignSpace = { levels: [3, 3], exclusions: [[{ dim: 0, levels: [1] }]] };
    expect(sample(space, 6)).toEqual(bruteAllowedCombos(space));
    expect(sample(space, 50)).toEqual(bruteAllowedCombos(space));
    // n close to the allowed count takes the enumerate-and-shuffle path.
    const most = sample(space, 5, 3);
    expect(new Set(most.map((r) => r.join())).size).toBe(5);
  });

  it('samples a 10^20 space where only 1 in 1000 combinations is allowed', () => {
    const start = performance.now();
    const rows = sample(rare, 500, 4);
    expect(performance.now() - start).toBeLessThan(10_000);
    expect(new Set(rows.map((r) => r.join())).size).toBe(500);
    for (const r of rows) {
      expect(bruteAllowed(rare, r)).toBe(true);
      expect(r[0]).toBe(0);
      expect(r[1]).toBe(0);
    }
  });

  it('draws uniformly among allowed rows under heavy exclusions', () => {
    // 4^5 = 1024 combinations, 24 allowed (< 1/32): the count-guided path must weight each level
    // by its number of completions, or the rows under lightly constrained prefixes dominate.
    const space: DesignSpace = {
      levels: [4, 4, 4, 4, 4],
      exclusions: [
        [{ dim: 0, levels: [2, 3] }],
        [
          { dim: 1, levels: [1, 2, 3] },
          { dim: 0, levels: [0] },
        ],
        [{ dim: 2, levels: [1, 2, 3] }],
        [
          { dim: 3, levels: [0, 1, 2] },
          { dim: 0, levels: [1] },
        ],
        [{ dim: 4, levels: [0, 1] }],
        [
          { dim: 1, levels: [3] },
          { dim: 3, levels: [3] },
        ],
      ],
    };
    const allowed = bruteAllowedCombos(space);
    expect(allowed.length * 32).toBeLessThan(1024);
    const draw = createRowSampler(compileSpace(space));
    const rng = createRng(5);
    const counts = new Map<string, number>();
    const draws = 1000 * allowed.length;
    for (let i = 0; i < draws; i++) {
      const row = draw(rng);
      expect(bruteAllowed(space, Array.from(row))).toBe(true);
      const key = row.join();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(allowed.length);
    // Binomial sd is about 31 per cell; ±200 is over 6 sd, while a per-class-uniform bug skews
    // cells by a factor of 2 or more.
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(200);
  });

  it('refuses n above maxVariants, bad n and fully excluded spaces', () => {
    const space = { levels: [10, 10], exclusions: [] };
    expect(() => generateDesign(space, { type: 'sample', n: 11 }, { maxVariants: 10 })).toThrow(
      expect.objectContaining({ code: 'too_many_variants' }),
    );
    for (const n of [0, -3, 2.5]) {
      expect(() => generateDesign(space, { type: 'sample', n }, LIMIT)).toThrow(
        expect.objectContaining({ code: 'invalid_design' }),
      );
    }
    const blocked = { levels: [2], exclusions: [[{ dim: 0, levels: [0, 1] }]] };
    expect(() => sample(blocked, 1)).toThrow(expect.objectContaining({ code: 'infeasible' }));
  });
});
