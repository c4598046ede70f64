/**
 * Experiment design library: turns a matrix (level counts per dimension + exclusions) into the
 * list of level combinations to produce. Pure and dependency-free; no I/O, no work at import.
 */
export { defaultRuns } from './balanced.ts';
export { DesignError } from './errors.ts';
export type { MainEffects } from './estimability.ts';
export { flatToRows } from './full.ts';
export { generateDesign, generateFullFlat } from './generate.ts';
export { countAllowed, isAllowed } from './space.ts';
export { analyseDesign, designStats, maxAbsCorrelation } from './stats.ts';
export { smallestEstimableBalanced } from './suggest.ts';
export type {
  Design,
  DesignErrorCode,
  DesignErrorDetails,
  DesignResult,
  DesignSpace,
  DesignStats,
  Exclusion,
  FlatDesign,
  GenerateOptions,
  InvalidCombinationReason,
} from './types.ts';
