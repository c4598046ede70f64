/** Service-configurable limits; every parser and validateMatrix takes them explicitly. */
export interface MatrixLimits {
  maxDimensions: number;
  maxLevelsPerDimension: number;
  maxConstraints: number;
  /** Size of the uploaded CSV/XLSX file itself. */
  maxFileBytes: number;
  /**
   * Total inflated size of an XLSX archive's parts. An .xlsx is a ZIP, so a small upload can
   * inflate to gigabytes inside exceljs; defaults to 16 × maxFileBytes.
   */
  maxUnzippedBytes?: number;
}

export const DEFAULT_MATRIX_LIMITS: Readonly<MatrixLimits> = Object.freeze({
  maxDimensions: 12,
  maxLevelsPerDimension: 50,
  maxConstraints: 100,
  maxFileBytes: 2 * 1024 * 1024,
});

/**
 * - `malformed` (→ 400): the input cannot be read as a matrix at all: CSV syntax, not an .xlsx,
 *   corrupt archive, empty file, unusable header row, JSON of the wrong shape.
 * - `invalid` (→ 422): it was read, but the matrix it describes is unacceptable: key format,
 *   duplicates, limits on counts, no levels, constraints naming unknown things.
 * - `too_large` (→ 413): the file (or, for XLSX, its inflated content) exceeds the limits; the
 *   API contract answers "body too large" with 413, so it is kept apart from `invalid`.
 */
export type MatrixErrorKind = 'malformed' | 'invalid' | 'too_large';

export interface MatrixError {
  /** XLSX: the worksheet the row and column are on. */
  sheet?: string;
  /** JSON path, e.g. `dimensions[1].levels[3].key`; omitted when row/column locate the error. */
  path?: string;
  /** 1-based row as a spreadsheet shows it (header = row 1 when the file starts with it). */
  row?: number;
  /** Header text of the column, or its letter (A, B, …) when the header cell is blank. */
  column?: string;
  message: string;
}

export type MatrixResult =
  | { ok: true; matrix: NormalizedMatrix }
  | { ok: false; kind: MatrixErrorKind; errors: MatrixError[] };

export type MetadataValue =
  | string
  | number
  | boolean
  | null
  | Array<string | number | boolean | null>;

export interface NormalizedLevel {
  key: string;
  label: string;
  prompt?: string;
  asset_id?: string;
  /** The local renderer's background for this level's videos (an image asset). */
  background_asset_id?: string;
  metadata?: Record<string, MetadataValue>;
  /** This level's generator, over the campaign's (the model defaults to the provider's). */
  video?: LevelVideo;
}

interface LevelVideo {
  provider: string;
  model?: string;
}

export interface NormalizedDimension {
  key: string;
  label: string;
  levels: NormalizedLevel[];
}

export interface NormalizedConstraint {
  /** Dimension key → excluded level keys, both in matrix order. */
  exclude: Record<string, string[]>;
}

export interface NormalizedMatrix {
  name?: string;
  dimensions: NormalizedDimension[];
  constraints: NormalizedConstraint[];
}

export interface DesignSpace {
  /** Level count of each dimension, in dimension order. */
  levels: number[];
  /** One entry per constraint: a combination is excluded when it matches every term. */
  exclusions: Array<Array<{ dim: number; levels: number[] }>>;
}
