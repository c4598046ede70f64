import { describe, expect, it } from 'vitest';
import {
  type DesignSpace,
  designStats,
  generateDesign,
} from '../../../src/matrices/designs/index.ts';
import {
  bruteAllowed,
  bruteAllowedCombos,
  bruteAllowedPairs,
  covertableSize,
  createRng,
  pairsOf,
  randomSpace,
} from './helpers.ts';

const LIMIT = { maxVariants: 100_000 };

function pairwise(space: DesignSpace, seed?: number): number[][] {
  return generateDesign(space, { type: 'pairwise', seed }, LIMIT).combinations;
}

function expectCovers(space: DesignSpace, rows: number[][]): void {
  const needed = bruteAllowedPairs(space);
  const got = new Set(rows.flatMap((r) => pairsOf(r)));
  for (const p of needed) expect(got.has(p), `missing ${p} in ${JSON.stringify(space)}`).toBe(true);
  for (const r of rows) expect(bruteAllowed(space, r)).toBe(true);
  // With one dimension there are no pairs: every allowed level must still appear.
  const levels = new Set(rows.map((r) => r.join()));
  if (space.levels.length === 1) expect(levels.size).toBe(bruteAllowedCombos(space).length);
}

const uniform = (k: number, s: number): number[] => new Array<number>(k).fill(s);

describe('pairwise design', () => {
  it('gives exactly 9 rows for four 3-level dimensions (an L9)', () => {
    const space = { levels: uniform(4, 3), exclusions: [] };
    const rows = pairwise(space);
    expect(rows).toHaveLength(9);
    expectCovers(space, rows);
  });

  it('covers every allowed pair with allowed rows on 120 random constrained spaces', () => {
    const rng = createRng(2024);
    for (let t = 0; t < 120; t++) {
      const space = randomSpace(rng, 6, 4, 6);
      if (bruteAllowedCombos(space).length === 0) {
        expect(() => pairwise(space, t)).toThrow(expect.objectContaining({ code: 'infeasible' }));
        continue;
      }
      const rows = pairwise(space, t);
      expectCovers(space, rows);
      expect(new Set(rows.map((r) => r.join())).size).toBe(rows.length);
      expect(designStats(space, rows).pair_coverage).toBe(1);
    }
  });

  it('covers pairs whose only witnesses need other dimensions to dodge exclusions', () => {
    // (d0=0, d1=0) is allowed only when d2 = 2; a naive row with d2 = 0 or 1 would be excluded.
    const space: DesignSpace = {
      levels: [2, 2, 3],
      exclusions: [
        [
          { dim: 0, levels: [0] },
          { dim: 1, levels: [0] },
          { dim: 2, levels: [0, 1] },
        ],
        [
          { dim: 1, levels: [1] },
          { dim: 2, levels: [2] },
        ],
      ],
    };
    expectCovers(space, pairwise(space));
  });

  it('is deterministic for a seed', () => {
    const space: DesignSpace = {
      levels: [4, 3, 3, 2, 5, 3],
      exclusions: [
        [
          { dim: 0, levels: [1] },
          { dim: 4, levels: [0, 2] },
        ],
      ],
    };
    expect(pairwise(space, 7)).toEqual(pairwise(space, 7));
    expect(pairwise(space)).toEqual(pairwise(space, 0));
  });

  const versus: [string, DesignSpace][] = [
    ['3^4', { levels: uniform(4, 3), exclusions: [] }],
    ['3^13', { levels: uniform(13, 3), exclusions: [] }],
    ['2^10', { levels: uniform(10, 2), exclusions: [] }],
    ['5^2 4^3 3^4 2^3', { levels: [5, 5, 4, 4, 4, 3, 3, 3, 3, 2, 2, 2], exclusions: [] }],
    [
      '4^6 with exclusions',
      {
        levels: uniform(6, 4),
        exclusions: [
          [
            { dim: 0, levels: [0] },
            { dim: 1, levels: [0, 1] },
          ],
          [
            { dim: 2, levels: [3] },
            { dim: 3, levels: [3] },
          ],
          [
            { dim: 4, levels: [1, 2] },
            { dim: 5, levels: [0] },
            { dim: 0, levels: [2] },
          ],
        ],
      },
    ],
    [
      '3^5 2^3 with exclusions',
      {
        levels: [3, 3, 3, 3, 3, 2, 2, 2],
        exclusions: [
          [
            { dim: 5, levels: [1] },
            { dim: 6, levels: [1] },
          ],
          [
            { dim: 0, levels: [2] },
            { dim: 7, levels: [0] },
          ],
        ],
      },
    ],
  ];
  for (const [name, space] of versus) {
    it(`is no larger than covertable for ${name}`, () => {
      const ours = pairwise(space);
      expectCovers(space, ours);
      expect(ours.length).toBeLessThanOrEqual(covertableSize(space));
    });
  }

  // covertable takes ~12 s on each of these, so its sizes (198 and 36, measured by
  // bench/designs.ts with covertable 2.5.2) are pinned rather than recomputed here.
  it('beats covertable on 10^20 (198 rows) with full coverage', () => {
    const space = { levels: uniform(20, 10), exclusions: [] };
    const rows = pairwise(space);
    expect(rows.length).toBeLessThan(198);
    expectCovers(space, rows);
  });

  it('beats covertable on 4^15 3^17 2^29 (36 rows) with full coverage', () => {
    const space = {
      levels: [...uniform(15, 4), ...uniform(17, 3), ...uniform(29, 2)],
      exclusions: [],
    };
    const rows = pairwise(space);
    expect(rows.length).toBeLessThan(36);
    expect(designStats(space, rows).pair_coverage).toBe(1);
  });

  it('handles a 10^20 space with exclusions without enumerating it', () => {
    const space: DesignSpace = {
      levels: uniform(20, 10),
      exclusions: [
        [
          { dim: 0, levels: [0, 1, 2] },
          { dim: 1, levels: [0, 1, 2] },
        ],
        [
          { dim: 5, levels: [9] },
          { dim: 6, levels: [9] },
          { dim: 7, levels: [9] },
        ],
        [
          { dim: 19, levels: [4] },
          { dim: 3, levels: [1, 2] },
        ],
      ],
    };
    const rows = pairwise(space, 3);
    for (const r of rows) expect(bruteAllowed(space, r)).toBe(true);
    // Worked out by hand: only the 9 pairs (d0<3, d1<3) and (d3 in {1,2}, d19=4) are impossible;
    // the three-term exclusion can always be dodged by its third dimension.
    const impossible = new Set(['3:1|19:4', '3:2|19:4']);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) impossible.add(`0:${a}|1:${b}`);
    const got = new Set(rows.flatMap((r) => pairsOf(r)));
    for (const p of bruteAllowedPairs({ levels: space.levels, exclusions: [] })) {
      expect(got.has(p), p).toBe(!impossible.has(p));
    }
    expect(designStats(space, rows).pair_coverage).toBe(1);
    expect(rows.length).toBeLessThan(198);
  });

  it('refuses when even the lower bound exceeds maxVariants, and fully excluded spaces', () => {
    const space = { levels: [10, 10, 3], exclusions: [] };
    expect(() => generateDesign(space, { type: 'pairwise' }, { maxVariants: 99 })).toThrow(
      expect.objectContaining({
        code: 'too_many_variants',
        details: expect.objectContaining({ limit: 99 }),
      }),
    );
    const blocked = { levels: [2, 2], exclusions: [[{ dim: 0, levels: [0, 1] }]] };
    expect(() => pairwise(blocked)).toThrow(expect.objectContaining({ code: 'infeasible' }));
  });

  it('lists each allowed level once for a single dimension', () => {
    const space = { levels: [4], exclusions: [[{ dim: 0, levels: [2] }]] };
    expect(pairwise(space)).toEqual([[0], [1], [3]]);
  });

  it('takes the best of several seeds: never above the single-seed size, the same for a seed', () => {
    // Single-seed sizes before best-of-seeds (default seed 0): 5^10 -> 42, 2^10 3^10 -> 15;
    // other seeds reached 37 and 14.
    for (const [levels, single, best] of [
      [uniform(10, 5), 42, 37],
      [[...uniform(10, 2), ...uniform(10, 3)], 15, 14],
    ] as const) {
      const space = { levels: [...levels], exclusions: [] };
      const rows = pairwise(space);
      expect(rows.length).toBeLessThanOrEqual(single);
      expect(rows.length).toBe(best);
      expectCovers(space, rows);
      expect(pairwise(space)).toEqual(rows);
      expect(pairwise(space, 0)).toEqual(rows);
    }
  });
});
