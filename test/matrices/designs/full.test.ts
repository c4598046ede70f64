import { describe, expect, it } from 'vitest';
import {
  countAllowed,
  DesignError,
  flatToRows,
  generateDesign,
  generateFullFlat,
} from '../../../src/matrices/designs/index.ts';
import { bruteAllowedCombos, createRng, randomSpace } from './helpers.ts';

describe('full design', () => {
  it('lists exactly the allowed combinations in lexicographic order (random spaces)', () => {
    const rng = createRng(99);
    for (let t = 0; t < 150; t++) {
      const space = randomSpace(rng, 5, 4, 6);
      const expected = bruteAllowedCombos(space);
      const { combinations } = generateDesign(space, { type: 'full' }, { maxVariants: 10_000 });
      expect(combinations, JSON.stringify(space)).toEqual(expected);
      expect(BigInt(combinations.length)).toBe(countAllowed(space));
    }
  });

  it('expands the 10x10x20x50 factorial with first dimension slowest', () => {
    const space = { levels: [10, 10, 20, 50], exclusions: [] };
    const { combinations } = generateDesign(space, { type: 'full' }, { maxVariants: 100_000 });
    expect(combinations.length).toBe(100_000);
    expect(combinations[0]).toEqual([0, 0, 0, 0]);
    expect(combinations[1]).toEqual([0, 0, 0, 1]);
    expect(combinations[50]).toEqual([0, 0, 1, 0]);
    expect(combinations[99_999]).toEqual([9, 9, 19, 49]);
    const flat = generateFullFlat(space, { maxVariants: 100_000 });
    expect(flat.width).toBe(4);
    expect(flat.count).toBe(100_000);
    expect(flatToRows(flat)).toEqual(combinations);
  });

  it('prunes excluded subtrees in order', () => {
    const space = {
      levels: [2, 3, 2],
      exclusions: [
        [
          { dim: 0, levels: [0] },
          { dim: 1, levels: [1, 2] },
        ],
        [{ dim: 2, levels: [1] }],
      ],
    };
    const { combinations } = generateDesign(space, { type: 'full' }, { maxVariants: 100 });
    expect(combinations).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [1, 1, 0],
      [1, 2, 0],
    ]);
  });

  it('refuses a 10^20 space immediately with the exact count', () => {
    const space = { levels: new Array(20).fill(10), exclusions: [] };
    const start = performance.now();
    let error: unknown;
    try {
      generateDesign(space, { type: 'full' }, { maxVariants: 100_000 });
    } catch (err) {
      error = err;
    }
    expect(performance.now() - start).toBeLessThan(500);
    expect(error).toBeInstanceOf(DesignError);
    const e = error as DesignError;
    expect(e.code).toBe('too_many_variants');
    expect(e.details.count_exact).toBe('100000000000000000000');
    expect(e.details.count).toBe(1e20);
    expect(e.details.limit).toBe(100_000);
  });

  it('refuses one over the limit and accepts exactly at the limit', () => {
    const space = { levels: [3, 3], exclusions: [[{ dim: 0, levels: [0] }]] };
    expect(generateDesign(space, { type: 'full' }, { maxVariants: 6 }).combinations).toHaveLength(
      6,
    );
    expect(() => generateDesign(space, { type: 'full' }, { maxVariants: 5 })).toThrow(DesignError);
  });

  it('handles zero dimensions and fully excluded spaces', () => {
    expect(
      generateDesign({ levels: [], exclusions: [] }, { type: 'full' }, { maxVariants: 5 }),
    ).toEqual({
      combinations: [[]],
    });
    const blocked = { levels: [2], exclusions: [[{ dim: 0, levels: [0, 1] }]] };
    expect(generateDesign(blocked, { type: 'full' }, { maxVariants: 5 }).combinations).toEqual([]);
  });

  it('validates maxVariants', () => {
    const space = { levels: [2], exclusions: [] };
    for (const maxVariants of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => generateDesign(space, { type: 'full' }, { maxVariants })).toThrow(
        expect.objectContaining({ code: 'invalid_design' }),
      );
    }
  });
});
