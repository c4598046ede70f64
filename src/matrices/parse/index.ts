/**
 * Matrix parsing and validation: JSON, CSV and XLSX in, one NormalizedMatrix or a list of located
 * errors out. Pure functions, no I/O; nothing here throws on bad input.
 *
 * Rules the formats share, decided here:
 * - Level keys are trimmed and NFC-normalized, kept in the case given, and must be unique within
 *   their dimension ignoring case ("Paris" and "paris" are rejected as duplicates). References
 *   to them (constraints) must match exactly; a case-only mismatch gets a "did you mean" hint.
 * - CSV/XLSX headers (and the long form's dimension cells) name dimensions ignoring case: the
 *   key is lowercased, the text as written becomes the label. A CSV row must have exactly the
 *   header's field count (422 naming the row); rows of blank cells are skipped. An .xlsx is read
 *   from its "matrix" sheet, else the first whose header parses; its errors carry `sheet`.
 * - Wide layout: a value repeated in a column is an error with both rows, as in JSON and the
 *   long layout, rather than silently one level (usually a paste slip that drops a level).
 * - Result kinds: see MatrixErrorKind (malformed → 400, invalid → 422, too_large → 413).
 * - Counts past a limit are cut before validation with one error at the first item past it, so
 *   errors are listed only within the limits; at most 100 errors are listed.
 */
export { parseMatrixCsv } from './csv.ts';
export {
  ASSET_ID_PATTERN,
  type ConstraintInput,
  constraintInputSchema,
  DIMENSION_KEY_PATTERN,
  dimensionInputSchema,
  levelInputSchema,
  type MatrixInput,
  matrixInputSchema,
  STANDARD_DIMENSIONS,
} from './schema.ts';
export {
  DEFAULT_MATRIX_LIMITS,
  type DesignSpace,
  type MatrixError,
  type MatrixErrorKind,
  type MatrixLimits,
  type MatrixResult,
  type MetadataValue,
  type NormalizedConstraint,
  type NormalizedDimension,
  type NormalizedLevel,
  type NormalizedMatrix,
} from './types.ts';
export { toDesignSpace, validateMatrix } from './validate.ts';
export { parseMatrixXlsx } from './xlsx.ts';
