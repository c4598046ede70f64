/**
 * Treatment-coded design for aggregated binomial data. Each row's dummy vector has one 1 for the
 * intercept and at most one per dimension, so rows are stored as sparse column lists (CSR) and
 * no dense n×p matrix is ever built.
 */

export interface DimensionSpec {
  readonly name?: string;
  /** Level count, or the level names (whose count is the level count). */
  readonly levels: number | readonly string[];
}

export interface BinomialRow {
  /** Level index per dimension; level 0 is the reference. */
  readonly levels: readonly number[];
  /** Clicks. */
  readonly successes: number;
  /** Impressions. */
  readonly trials: number;
}

export interface LogisticInput {
  /** A level count per dimension, or a spec with names. */
  readonly dimensions: readonly (number | DimensionSpec)[];
  readonly rows: readonly BinomialRow[];
}

/** Rows with trials > 0, in CSR form with ascending column indices per row. */
export interface SparseRows {
  readonly count: number;
  readonly ptr: Int32Array;
  readonly col: Int32Array;
  readonly y: Float64Array;
  readonly n: Float64Array;
}

export interface Design extends SparseRows {
  readonly dimensionNames: string[];
  readonly levelNames: string[][];
  readonly levelCounts: number[];
  /** Parameter count: 1 + Σ (levels − 1). */
  readonly p: number;
  readonly names: string[];
  readonly columnDimension: (number | null)[];
  readonly columnLevel: (number | null)[];
  /** Index of the column for (dimension, level ≥ 1). */
  readonly offsets: number[];
  readonly inputRows: number;
}

export const INTERCEPT = '(intercept)';

export function buildDesign(input: LogisticInput): Design {
  const dims = input.dimensions.map((d, i) => normaliseDimension(d, i));
  const levelCounts = dims.map((d) => d.levels.length);
  const offsets: number[] = [];
  const names = [INTERCEPT];
  const columnDimension: (number | null)[] = [null];
  const columnLevel: (number | null)[] = [null];
  dims.forEach((d, di) => {
    offsets.push(names.length - 1);
    for (let l = 1; l < d.levels.length; l++) {
      names.push(`${d.name}=${d.levels[l]}`);
      columnDimension.push(di);
      columnLevel.push(l);
    }
  });
  const p = names.length;
  const D = dims.length;

  // One validating pass copies levels into a flat typed array; the fill pass then reads only
  // that, which keeps 100k × 60 rows at tens of milliseconds.
  const { rows } = input;
  const flat = new Int32Array(rows.length * D);
  let count = 0;
  let nnz = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    validateRow(row, r, levelCounts);
    if (!(row.trials > 0)) continue;
    const { levels } = row;
    const base = count * D;
    nnz++;
    for (let d = 0; d < D; d++) {
      const l = levels[d]!;
      flat[base + d] = l;
      if (l > 0) nnz++;
    }
    count++;
  }
  const ptr = new Int32Array(count + 1);
  const col = new Int32Array(nnz);
  const y = new Float64Array(count);
  const n = new Float64Array(count);
  let k = 0;
  for (let i = 0, r = 0; i < count; r++) {
    const row = rows[r]!;
    if (!(row.trials > 0)) continue;
    col[k++] = 0;
    const base = i * D;
    for (let d = 0; d < D; d++) {
      const l = flat[base + d]!;
      if (l > 0) col[k++] = offsets[d]! + l;
    }
    y[i] = row.successes;
    n[i] = row.trials;
    ptr[++i] = k;
  }
  return {
    count,
    ptr,
    col,
    y,
    n,
    dimensionNames: dims.map((d) => d.name),
    levelNames: dims.map((d) => d.levels),
    levelCounts,
    p,
    names,
    columnDimension,
    columnLevel,
    offsets,
    inputRows: input.rows.length,
  };
}

function normaliseDimension(
  d: number | DimensionSpec,
  i: number,
): { name: string; levels: string[] } {
  const spec = typeof d === 'number' ? { levels: d } : d;
  const name = spec.name ?? `d${i}`;
  const levels =
    typeof spec.levels === 'number'
      ? Array.from({ length: spec.levels }, (_, l) => String(l))
      : [...spec.levels];
  if (!Number.isInteger(levels.length) || levels.length < 1) {
    throw new RangeError(`dimension ${i} (${name}) needs at least one level`);
  }
  return { name, levels };
}

function validateRow(row: BinomialRow, r: number, levelCounts: readonly number[]): void {
  const { levels } = row;
  if (levels.length !== levelCounts.length) {
    throw new RangeError(`row ${r}: ${levels.length} levels for ${levelCounts.length} dimensions`);
  }
  for (let d = 0; d < levels.length; d++) {
    const l = levels[d]!;
    if (!Number.isInteger(l) || l < 0 || l >= levelCounts[d]!) {
      throw new RangeError(`row ${r}: level ${l} out of range for dimension ${d}`);
    }
  }
  const { successes: s, trials: t } = row;
  if (!Number.isFinite(s) || !Number.isFinite(t) || s < 0 || t < 0 || s > t) {
    throw new RangeError(`row ${r}: need 0 ≤ successes ≤ trials, got ${s}/${t}`);
  }
}

/**
 * The same rows with columns renumbered by `map` (−1 drops the column), optionally only the rows
 * where `keep` is set.
 */
export function remapRows(rows: SparseRows, map: Int32Array, keep?: Uint8Array): SparseRows {
  let count = 0;
  let nnz = 0;
  for (let i = 0; i < rows.count; i++) {
    if (keep && !keep[i]) continue;
    count++;
    for (let k = rows.ptr[i]!; k < rows.ptr[i + 1]!; k++) if (map[rows.col[k]!]! >= 0) nnz++;
  }
  const ptr = new Int32Array(count + 1);
  const col = new Int32Array(nnz);
  const y = new Float64Array(count);
  const n = new Float64Array(count);
  let j = 0;
  let m = 0;
  for (let i = 0; i < rows.count; i++) {
    if (keep && !keep[i]) continue;
    for (let k = rows.ptr[i]!; k < rows.ptr[i + 1]!; k++) {
      const c = map[rows.col[k]!]!;
      if (c >= 0) col[m++] = c;
    }
    y[j] = rows.y[i]!;
    n[j] = rows.n[i]!;
    ptr[++j] = m;
  }
  return { count, ptr, col, y, n };
}

/** Unweighted XᵀX (q×q) of sparse 0/1 rows: entry (a, b) counts rows having both columns. */
export function crossProduct(rows: SparseRows, q: number): Float64Array {
  const A = new Float64Array(q * q);
  const { ptr, col } = rows;
  for (let i = 0; i < rows.count; i++) {
    const end = ptr[i + 1]!;
    for (let a = ptr[i]!; a < end; a++) {
      const base = col[a]! * q;
      for (let b = a; b < end; b++) A[base + col[b]!]! += 1;
    }
  }
  symmetriseUpper(A, q);
  return A;
}

/** Copies the upper triangle onto the lower one. */
export function symmetriseUpper(A: Float64Array, q: number): void {
  for (let a = 0; a < q; a++) for (let b = a + 1; b < q; b++) A[b * q + a] = A[a * q + b]!;
}
