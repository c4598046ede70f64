import { defaultRuns } from './balanced.ts';
import { generateDesign } from './generate.ts';
import { allowedLevels, createPairIndex } from './pairs.ts';
import { compileSpace } from './space.ts';
import { analyseDesign } from './stats.ts';
import type { DesignSpace } from './types.ts';

/**
 * The smallest balanced design found to estimate every main effect: `balanced` at the model's
 * minimum n = 1 + Σ(levels − 1), then one more row, then its default size, each generated and
 * checked (rank) before it is named; null when none of those does, or when some level occurs in
 * no allowed combination (no design can estimate it). Tries are few because each is a full
 * balanced search (up to a second on spaces with ~100 parameters).
 */
export function smallestEstimableBalanced(
  space: DesignSpace,
  seed = 0,
): { type: 'balanced'; n: number } | null {
  const cs = compileSpace(space);
  const pi = createPairIndex(cs.levels);
  if (cs.empty || allowedLevels(cs, pi).includes(0)) return null;
  const minimum = 1 + space.levels.reduce((acc, s) => acc + s - 1, 0);
  const sizes = [...new Set([minimum, minimum + 1, Math.max(minimum, defaultRuns(space.levels))])];
  for (const n of sizes) {
    const rows = generateDesign(
      space,
      { type: 'balanced', n, seed },
      { maxVariants: n },
    ).combinations;
    if (analyseDesign(space, rows).mainEffects.estimable) return { type: 'balanced', n };
  }
  return null;
}
