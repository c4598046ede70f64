import { analyseDesign, smallestEstimableBalanced } from './designs/index.ts';
import type { NormalizedMatrix } from './parse/index.ts';
import { toDesignSpace } from './parse/index.ts';
import { type PowerInput, powerAnalysis } from './power.ts';
import type { DesignInput } from './schemas.ts';

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * What the preview says about a design's analysis: coverage and balance, whether the
 * main-effects model can be estimated from it (and if not, which levels are aliased and the
 * smallest balanced design that can), and, given a power request, the smallest change in CTR
 * each dimension can detect.
 */
export function designAnalysis(p: {
  matrix: NormalizedMatrix;
  design: DesignInput;
  combinations: readonly number[][];
  power?: PowerInput | undefined;
}) {
  const { matrix, combinations } = p;
  const space = toDesignSpace(matrix);
  const { stats, mainEffects: me } = analyseDesign(space, combinations);
  const aliased = me.aliased.map(({ dim, level }) => {
    const d = matrix.dimensions[dim]!;
    return `${d.key}=${d.levels[level]!.key}`;
  });
  let suggestion: { type: 'balanced'; n: number } | null = null;
  let warning: string | null = null;
  if (!me.estimable) {
    const seed = 'seed' in p.design ? p.design.seed : undefined;
    suggestion = smallestEstimableBalanced(space, seed ?? 0);
    warning =
      `${combinations.length} variants cannot estimate the ${me.parameters} parameters of the main-effects model ` +
      `(rank ${me.rank}): ${aliased.length} of ${me.parameters - 1} level effects are aliased with others. ` +
      (suggestion
        ? `A balanced design of ${suggestion.n} variants estimates them all.`
        : 'No balanced design tried estimates them all: some levels are tied together by the constraints.');
  }
  return {
    design_stats: {
      pair_coverage: stats.pair_coverage,
      level_balance: stats.level_balance,
      max_abs_correlation: round(stats.max_abs_correlation ?? 0, 6),
      parameters: me.parameters,
      rank: me.rank,
      estimable: me.estimable,
      d_efficiency: round(me.d_efficiency, 4),
      orthogonal: me.orthogonal,
      aliased_effects: aliased,
      smallest_estimable_design: suggestion,
      warning,
    },
    ...(p.power
      ? {
          power: powerAnalysis({
            input: p.power,
            dimensions: matrix.dimensions,
            combinations,
            mainEffects: me,
          }),
        }
      : {}),
  };
}
