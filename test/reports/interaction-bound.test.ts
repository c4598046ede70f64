import { describe, expect, it } from 'vitest';
import { interactionTests } from '../../src/reports/interactions.ts';
import type { FittedModel, ModelData } from '../../src/reports/model.ts';

// A lack-of-fit test refits the model with La × Lb more columns; past rows × columns of
// MAX_PAIR_WORK the report says so instead of spending seconds on one pair.
describe('interaction tests', () => {
  const dims = ['a', 'b'].map((key) => ({
    key,
    levels: Array.from({ length: 10 }, (_, i) => `${key}${i}`),
  }));
  const dataOf = (n: number) =>
    ({
      rows: Array.from({ length: n }, (_, i) => ({
        levels: [i % 10, Math.floor(i / 10) % 10],
        successes: 1,
        trials: 100,
      })),
      strata: null,
    }) as unknown as ModelData;
  const main = { fit: { rank: 19 } } as unknown as FittedModel;

  it('skips a pair whose refit is past the work bound and names why', () => {
    const [test] = interactionTests(dims, dataOf(20_000), main);
    expect(test).toMatchObject({ dimensions: ['a', 'b'], p_value: null, f: null });
    expect(test!.note).toBe(
      "not tested: 20000 rows × 100 level pairs is past the report's work bound",
    );
  });
});
