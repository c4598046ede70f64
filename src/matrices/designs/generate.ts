import { balancedDesign } from './balanced.ts';
import { DesignError } from './errors.ts';
import { explicitDesign } from './explicit.ts';
import { enumerateAllowed, flatToRows } from './full.ts';
import { pairwiseDesign } from './pairwise.ts';
import { createRng } from './rng.ts';
import { sampleDesign } from './sample.ts';
import { compileSpace } from './space.ts';
import type { Design, DesignResult, DesignSpace, FlatDesign, GenerateOptions } from './types.ts';

const DEFAULT_SEED = 0;

function checkLimit(opts: GenerateOptions): number {
  const limit = opts?.maxVariants;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new DesignError('invalid_design', 'maxVariants must be a positive safe integer');
  }
  return limit;
}

function seedOf(design: { seed?: number }): number {
  const seed = design.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed)) {
    throw new DesignError('invalid_design', 'seed must be a safe integer');
  }
  return seed;
}

function runsOf(n: unknown, required: boolean): number | undefined {
  if (n === undefined && !required) return undefined;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new DesignError('invalid_design', 'n must be a positive safe integer');
  }
  return n;
}

/**
 * Every allowed combination in lexicographic order as one flat Uint16Array (row-major), the
 * cheap form for large factorials. Throws DesignError('too_many_variants', with the exact
 * count) before enumerating when the allowed count exceeds maxVariants.
 */
export function generateFullFlat(space: DesignSpace, opts: GenerateOptions): FlatDesign {
  const limit = checkLimit(opts);
  return enumerateAllowed(compileSpace(space), limit);
}

/**
 * Expands `design` over `space`. Exclusions are always honoured and every randomised design is
 * a pure function of (space, design, seed); the default seed is 0.
 *
 * Errors are THROWN as DesignError (never returned):
 * - invalid_space: malformed levels/exclusions;
 * - invalid_design: unknown type, bad n/seed/maxVariants, empty explicit list;
 * - too_many_variants: the design needs more rows than maxVariants (details.count/count_exact,
 *   details.limit). `full` checks the exact allowed count first, `pairwise` a lower bound first;
 * - infeasible: every combination is excluded (pairwise, balanced, sample);
 * - invalid_combination: `explicit` entry that is malformed or excluded (details.index, reason).
 *
 * Row order: full and explicit keep their natural order; pairwise, balanced and sample are
 * sorted lexicographically.
 */
export function generateDesign(
  space: DesignSpace,
  design: Design,
  opts: GenerateOptions,
): DesignResult {
  const limit = checkLimit(opts);
  const cs = compileSpace(space);
  switch (design?.type) {
    case 'full':
      return { combinations: flatToRows(enumerateAllowed(cs, limit)) };
    case 'pairwise':
      return { combinations: pairwiseDesign(cs, seedOf(design), limit) };
    case 'balanced':
      return {
        combinations: balancedDesign(cs, runsOf(design.n, false), seedOf(design), limit),
      };
    case 'sample': {
      const n = runsOf(design.n, true)!;
      const rows = cs.empty ? [] : sampleDesign(cs, n, createRng(seedOf(design)), limit);
      if (rows.length === 0) throw new DesignError('infeasible', 'every combination is excluded');
      return { combinations: rows };
    }
    case 'explicit':
      return explicitDesign(cs, design.combinations, limit);
    default:
      throw new DesignError('invalid_design', 'unknown design type');
  }
}
