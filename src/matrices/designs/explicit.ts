import { DesignError, tooManyVariants } from './errors.ts';
import { type CompiledSpace, clauseMatches } from './space.ts';
import type { DesignResult, InvalidCombinationReason } from './types.ts';

function bad(
  index: number,
  reason: InvalidCombinationReason,
  message: string,
  extra: { dim?: number; exclusion?: number } = {},
): DesignError {
  return new DesignError('invalid_combination', `combination ${index}: ${message}`, {
    index,
    reason,
    ...extra,
  });
}

/**
 * Validates user-listed combinations in order and throws DesignError('invalid_combination') for
 * the first bad one, with its index and reason: not_an_array, wrong_dimension_count,
 * level_out_of_range (+ dim) or excluded (+ index of the first matching exclusion).
 * Exact duplicates are dropped (first occurrence kept, order preserved) and their input indices
 * reported in `duplicate_indices`: a repeated variant adds cost without adding information.
 */
export function explicitDesign(
  cs: CompiledSpace,
  combinations: unknown,
  maxVariants: number,
): DesignResult {
  if (!Array.isArray(combinations) || combinations.length === 0) {
    throw new DesignError('invalid_design', 'explicit design needs a non-empty combinations array');
  }
  const seen = new Set<string>();
  const kept: number[][] = [];
  const duplicates: number[] = [];
  combinations.forEach((combo: unknown, index) => {
    if (!Array.isArray(combo)) throw bad(index, 'not_an_array', 'not an array');
    if (combo.length !== cs.k) {
      throw bad(index, 'wrong_dimension_count', `has ${combo.length} levels, expected ${cs.k}`);
    }
    for (let d = 0; d < cs.k; d++) {
      const v: unknown = combo[d];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= cs.levels[d]!) {
        throw bad(
          index,
          'level_out_of_range',
          `dimension ${d} level must be in 0..${cs.levels[d]! - 1}`,
          {
            dim: d,
          },
        );
      }
    }
    const row = combo as number[];
    if (cs.empty) {
      throw bad(index, 'excluded', `excluded by exclusion ${cs.emptySource}`, {
        exclusion: cs.emptySource,
      });
    }
    const hit = cs.clauses.findIndex((clause) => clauseMatches(clause, row));
    if (hit >= 0) {
      const exclusion = cs.source[hit]!;
      throw bad(index, 'excluded', `excluded by exclusion ${exclusion}`, { exclusion });
    }
    const key = row.join(',');
    if (seen.has(key)) duplicates.push(index);
    else {
      seen.add(key);
      kept.push(row.slice());
    }
  });
  if (kept.length > maxVariants) throw tooManyVariants(kept.length, maxVariants);
  return { combinations: kept, duplicate_indices: duplicates };
}
