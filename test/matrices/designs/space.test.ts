import { describe, expect, it } from 'vitest';
import {
  countAllowed,
  DesignError,
  type DesignSpace,
  type Exclusion,
  isAllowed,
} from '../../../src/matrices/designs/index.ts';
import { allCombos, bruteAllowed, createRng, randomSpace } from './helpers.ts';

describe('countAllowed', () => {
  it('matches brute force on 300 random small spaces with random exclusions', () => {
    const rng = createRng(12345);
    for (let t = 0; t < 300; t++) {
      const space = randomSpace(rng, 6, 4, 8);
      let brute = 0n;
      for (const c of allCombos(space.levels)) if (bruteAllowed(space, c)) brute++;
      expect(countAllowed(space), JSON.stringify(space)).toBe(brute);
    }
  });

  it('handles overlapping exclusions, repeated dims and never-matching terms', () => {
    const space: DesignSpace = {
      levels: [3, 3, 2],
      exclusions: [
        [{ dim: 0, levels: [0, 1] }],
        [
          { dim: 0, levels: [1, 2] },
          { dim: 0, levels: [2] },
          { dim: 1, levels: [0] },
        ],
        [{ dim: 2, levels: [] }],
      ],
    };
    // dim0 in {0,1} excluded (12 combos); dim0 = 2 and dim1 = 0 excluded (2 more) -> 18 - 14.
    expect(countAllowed(space)).toBe(4n);
  });

  it('is exact and instant for a 10^20 space with 36 exclusions', () => {
    const rng = createRng(7);
    const levels = new Array<number>(20).fill(10);
    const exclusions: Exclusion[] = [];
    // 24 exclusions tangled over dims 0..5 and 12 over dims 10..13; the other dims are free.
    const groups: [number[], number][] = [
      [[0, 1, 2, 3, 4, 5], 24],
      [[10, 11, 12, 13], 12],
    ];
    for (const [dims, count] of groups) {
      for (let e = 0; e < count; e++) {
        const terms = 1 + rng.int(3);
        const exclusion: Exclusion = [];
        for (let t = 0; t < terms; t++) {
          const chosen = Array.from({ length: 10 }, (_, l) => l).filter(() => rng.next() < 0.5);
          exclusion.push({ dim: dims[rng.int(dims.length)]!, levels: chosen });
        }
        exclusions.push(exclusion);
      }
    }
    const start = performance.now();
    const count = countAllowed({ levels, exclusions });
    const ms = performance.now() - start;
    // Reference: brute force over each tangled group separately, free dims multiply.
    let product = 10n ** 10n;
    for (const [dims] of groups) {
      const sub = exclusions
        .filter((ex) => ex.every((t) => dims.includes(t.dim)))
        .map((ex) => ex.map((t) => ({ dim: dims.indexOf(t.dim), levels: t.levels })));
      let n = 0n;
      for (const c of allCombos(dims.map(() => 10))) {
        if (bruteAllowed({ levels: dims.map(() => 10), exclusions: sub }, c)) n++;
      }
      product *= n;
    }
    expect(count).toBe(product);
    expect(ms).toBeLessThan(1000);
  });

  it('counts a huge unconstrained space exactly', () => {
    expect(countAllowed({ levels: new Array(20).fill(10), exclusions: [] })).toBe(10n ** 20n);
  });

  it('rejects malformed spaces with invalid_space', () => {
    const bad: unknown[] = [
      { levels: [2, 0], exclusions: [] },
      { levels: [2, 2.5], exclusions: [] },
      { levels: [2, 2], exclusions: [[]] },
      { levels: [2, 2], exclusions: [[{ dim: 2, levels: [0] }]] },
      { levels: [2, 2], exclusions: [[{ dim: 0, levels: [2] }]] },
      { levels: 'x', exclusions: [] },
    ];
    for (const space of bad) {
      try {
        countAllowed(space as DesignSpace);
        expect.unreachable(JSON.stringify(space));
      } catch (err) {
        expect(err).toBeInstanceOf(DesignError);
        expect((err as DesignError).code).toBe('invalid_space');
      }
    }
  });
});

describe('isAllowed', () => {
  const space: DesignSpace = {
    levels: [3, 2],
    exclusions: [
      [
        { dim: 0, levels: [1] },
        { dim: 1, levels: [0] },
      ],
    ],
  };
  it('applies exclusions as AND within, OR across', () => {
    expect(isAllowed(space, [1, 0])).toBe(false);
    expect(isAllowed(space, [1, 1])).toBe(true);
    expect(isAllowed(space, [0, 0])).toBe(true);
  });
  it('returns false for malformed combinations instead of throwing', () => {
    expect(isAllowed(space, [1])).toBe(false);
    expect(isAllowed(space, [3, 0])).toBe(false);
    expect(isAllowed(space, [0.5, 0])).toBe(false);
  });
});
