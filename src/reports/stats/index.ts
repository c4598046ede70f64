export { type Adjusted, type Adjustment, adjust, benjaminiHochberg } from './adjust.ts';
export { probBest, seededNormal, seededUniform } from './best.ts';
export {
  type BinomialRow,
  buildDesign,
  type Design,
  type DimensionSpec,
  INTERCEPT,
  type LogisticInput,
} from './design.ts';
export { bd0, binomialDeviance } from './deviance.ts';
export { type Dispersion, variantDispersion } from './dispersion.ts';
export {
  type DimensionEffects,
  type LevelEffect,
  type LevelEffects,
  levelEffects,
} from './effects.ts';
export { holm } from './holm.ts';
export {
  type Coefficient,
  fitLogistic,
  type LogisticFit,
  type LogisticOptions,
  RANK_TOL,
} from './logistic.ts';
export { normalCdf, normalPdf, normalQuantile, normalSf, twoSidedP } from './normal.ts';
export { type RatioSums, ratioInterval } from './ratio.ts';
export {
  fUpperTail,
  incompleteBeta,
  studentCdf,
  studentQuantileTwoSided,
  studentTwoSidedP,
} from './student.ts';
export { wilson, Z_95 } from './wilson.ts';
