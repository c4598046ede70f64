/**
 * Input and output shapes of the experiment design library. Levels are addressed by index:
 * dimension `i` has levels `0 .. levels[i] - 1`, in matrix order.
 */
export interface DesignSpace {
  /** Level count per dimension, in matrix order. Integers in 1..65535. */
  levels: number[];
  /** A combination is excluded when it matches ALL terms of ANY exclusion. */
  exclusions: Exclusion[];
}

/**
 * One exclusion: a conjunction of terms. A term matches a combination whose level on `dim` is
 * one of `levels`. Several terms on the same dimension must all match (their sets intersect).
 * A term with an empty `levels` list matches nothing, so its exclusion never applies.
 */
export type Exclusion = Array<{ dim: number; levels: number[] }>;

export type Design =
  | { type: 'full' }
  | { type: 'pairwise'; seed?: number }
  | { type: 'balanced'; n?: number; seed?: number }
  | { type: 'sample'; n: number; seed?: number }
  | { type: 'explicit'; combinations: number[][] };

export interface GenerateOptions {
  /** Hard cap on the number of rows a design may produce (positive safe integer). */
  maxVariants: number;
}

export interface DesignResult {
  /** One array of level indices per variant, each of length `levels.length`. */
  combinations: number[][];
  /** `explicit` only: input indices dropped because they repeated an earlier combination. */
  duplicate_indices?: number[];
}

/** Row-major flat form of a design: row `r`, dimension `d` is `data[r * width + d]`. */
export interface FlatDesign {
  width: number;
  count: number;
  data: Uint16Array;
}

export interface DesignStats {
  /** Covered allowed pairs / allowed pairs (1 when the space has no pairs). */
  pair_coverage: number;
  /**
   * Worst dimension's min level count / max level count, over the levels that occur in at
   * least one allowed combination. 1 = perfectly balanced.
   */
  level_balance: number;
  /** See `maxAbsCorrelation`. */
  max_abs_correlation?: number;
}

export type DesignErrorCode =
  | 'invalid_space'
  | 'invalid_design'
  | 'too_many_variants'
  | 'invalid_combination'
  | 'infeasible';

export type InvalidCombinationReason =
  | 'not_an_array'
  | 'wrong_dimension_count'
  | 'level_out_of_range'
  | 'excluded';

export interface DesignErrorDetails {
  /** too_many_variants: rows the request would produce (may be rounded above 2^53). */
  count?: number;
  /** too_many_variants: exact decimal count, safe for huge spaces. */
  count_exact?: string;
  /** too_many_variants: the maxVariants limit. */
  limit?: number;
  /** invalid_combination: index of the first bad combination in the input list. */
  index?: number;
  reason?: InvalidCombinationReason;
  /** invalid_combination / invalid_space: offending dimension. */
  dim?: number;
  /** invalid_combination (excluded): index of the first matching exclusion. */
  exclusion?: number;
}
