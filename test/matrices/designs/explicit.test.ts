import { describe, expect, it } from 'vitest';
import {
  DesignError,
  type DesignSpace,
  generateDesign,
} from '../../../src/matrices/designs/index.ts';

const space: DesignSpace = {
  levels: [3, 2, 4],
  exclusions: [
    [{ dim: 2, levels: [3] }],
    [
      { dim: 0, levels: [1] },
      { dim: 1, levels: [0] },
    ],
  ],
};

function explicit(combinations: unknown, maxVariants = 100) {
  return generateDesign(space, { type: 'explicit', combinations } as never, { maxVariants });
}

function errorOf(fn: () => unknown): DesignError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DesignError);
    return err as DesignError;
  }
  throw new Error('expected a DesignError');
}

describe('explicit design', () => {
  it('keeps valid combinations in order and drops exact duplicates', () => {
    const result = explicit([
      [0, 0, 0],
      [2, 1, 2],
      [0, 0, 0],
      [1, 1, 1],
      [2, 1, 2],
    ]);
    expect(result.combinations).toEqual([
      [0, 0, 0],
      [2, 1, 2],
      [1, 1, 1],
    ]);
    expect(result.duplicate_indices).toEqual([2, 4]);
  });

  it('reports the first bad combination with its index and reason', () => {
    const cases: [unknown[], Record<string, unknown>][] = [
      [[[0, 0, 0], 'x'], { index: 1, reason: 'not_an_array' }],
      [
        [
          [0, 0, 0],
          [0, 0],
        ],
        { index: 1, reason: 'wrong_dimension_count' },
      ],
      [[[0, 2, 0]], { index: 0, reason: 'level_out_of_range', dim: 1 }],
      [[[0, 0, -1]], { index: 0, reason: 'level_out_of_range', dim: 2 }],
      [[[0, 0, 1.5]], { index: 0, reason: 'level_out_of_range', dim: 2 }],
      [[[0, '1', 1]], { index: 0, reason: 'level_out_of_range', dim: 1 }],
      [
        [
          [0, 0, 0],
          [2, 1, 3],
        ],
        { index: 1, reason: 'excluded', exclusion: 0 },
      ],
      [
        [
          [0, 0, 0],
          [0, 1, 1],
          [1, 0, 2],
          [9, 9, 9],
        ],
        { index: 2, reason: 'excluded', exclusion: 1 },
      ],
    ];
    for (const [combos, details] of cases) {
      const err = errorOf(() => explicit(combos));
      expect(err.code).toBe('invalid_combination');
      expect(err.details).toMatchObject(details);
    }
  });

  it('refuses more distinct combinations than maxVariants, counting after de-duplication', () => {
    const combos = [
      [0, 0, 0],
      [0, 0, 1],
      [0, 0, 1],
    ];
    expect(explicit(combos, 2).combinations).toHaveLength(2);
    const err = errorOf(() => explicit([...combos, [0, 0, 2]], 2));
    expect(err.code).toBe('too_many_variants');
    expect(err.details).toMatchObject({ count: 3, limit: 2 });
  });

  it('rejects an empty or missing list', () => {
    expect(errorOf(() => explicit([])).code).toBe('invalid_design');
    expect(errorOf(() => explicit(undefined)).code).toBe('invalid_design');
  });
});
