import { fieldCountProblem } from '../../csv/delimiter.ts';
import { type ConstraintInput, DIMENSION_KEY_PATTERN, type MatrixInput } from './schema.ts';
import type { MatrixError, MatrixLimits, MatrixResult } from './types.ts';
import { capErrors, checkMatrix, formatPath, type Issue, type PathSegment } from './validate.ts';

/** One spreadsheet row: trimmed cell texts by 0-based column, and its row number as shown. */
export interface TableRow {
  row: number;
  cells: string[];
  /** CSV only: fields in the record; a row must have as many as the header. */
  fields?: number;
}

/** A cell that could not be turned into text (XLSX error values, formulas without a result). */
export interface CellProblem {
  row: number;
  col: number;
  message: string;
}

interface TableInput {
  rows: TableRow[];
  limits: MatrixLimits;
  constraints?: ConstraintInput[] | undefined;
  emptyMessage: string;
  cellProblems?: CellProblem[];
  /** CSV only: the delimiter the header was read with, to explain ragged rows. */
  delimiter?: string;
}

interface Loc {
  row?: number;
  col?: number;
}

/** Located error; `col` is kept for sorting and rendered through the header. */
interface TableError extends Loc {
  message: string;
  path?: string;
}

interface Built {
  doc: MatrixInput;
  locate: (path: readonly PathSegment[]) => Loc | undefined;
  malformed: TableError[];
  invalid: TableError[];
}

// provider and model: the level's generator (the generator as a variable); wide form cannot say it.
const LONG_COLUMNS = [
  'dimension',
  'level',
  'label',
  'prompt',
  'asset_id',
  'background_asset_id',
  'provider',
  'model',
] as const;
type LongColumn = (typeof LONG_COLUMNS)[number];

export function columnLetter(col: number): string {
  let n = col + 1;
  let out = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

export function isBlankRow(cells: readonly string[]): boolean {
  return cells.every((cell) => cell === '');
}

/**
 * A dimension named in a header cell (wide) or a `dimension` cell (long): matched ignoring case,
 * as spreadsheet users capitalise headers ("Setting" is the dimension `setting`, labelled
 * "Setting"). A name that is no valid key even lowercased is kept as written, so its error
 * quotes what the user typed.
 */
function dimensionOf(name: string): { key: string; label?: string } {
  const key = name.toLowerCase();
  if (!DIMENSION_KEY_PATTERN.test(key)) return { key: name };
  return key === name ? { key } : { key, label: name };
}

/**
 * Whether a row reads as a matrix header: the long form's columns (dimension and level, nothing
 * unknown), or only valid dimension keys (ignoring case). Decides which worksheet holds the
 * matrix when none is named "matrix"; a "Read me" sheet's prose does not pass.
 */
export function headerParses(cells: readonly string[]): boolean {
  const names = cells.filter((c) => c !== '').map((c) => c.toLowerCase());
  if (names.length === 0) return false;
  if (names.includes('dimension') && names.includes('level')) {
    return names.every((n) => (LONG_COLUMNS as readonly string[]).includes(n));
  }
  return names.every((n) => DIMENSION_KEY_PATTERN.test(n));
}

/**
 * Shared by CSV and XLSX: detects the layout from the header row, builds the JSON document with
 * a source map, validates it, and re-locates every issue to the row and column it came from.
 */
export function tableToMatrix(input: TableInput): MatrixResult {
  const rows = input.rows.filter((r) => !isBlankRow(r.cells));
  const [header, ...data] = rows;
  if (!header) return fail('malformed', [{ message: input.emptyMessage }], []);
  const names = header.cells;

  const lower = names.map((n) => n.toLowerCase());
  const built =
    lower.includes('dimension') && lower.includes('level')
      ? buildLong(header, data, input.delimiter)
      : buildWide(header, data, input.delimiter);
  if (built.malformed.length > 0) return fail('malformed', built.malformed, names);
  if (data.length === 0) {
    return fail('invalid', [{ message: 'the file has a header row but no data rows' }], names);
  }

  if (input.constraints !== undefined) built.doc.constraints = input.constraints;
  const result = checkMatrix(built.doc, input.limits);
  const problems: TableError[] = (input.cellProblems ?? []).map((p) => ({ ...p }));
  if (result.ok && problems.length === 0 && built.invalid.length === 0) return result;

  const issues = result.ok ? [] : result.issues;
  const located = issues.map((issue) => locateIssue(issue, built.locate));
  return fail('invalid', [...problems, ...built.invalid, ...located], names);
}

function fail(kind: 'malformed' | 'invalid', errors: TableError[], names: string[]): MatrixResult {
  const sorted = [...errors].sort(
    (a, b) =>
      (a.row ?? Number.POSITIVE_INFINITY) - (b.row ?? Number.POSITIVE_INFINITY) ||
      (a.col ?? -1) - (b.col ?? -1),
  );
  const out = sorted.map((e): MatrixError => {
    // Built field by field so that absent locations are absent keys, not `undefined`.
    const error: Partial<MatrixError> = {};
    if (e.path !== undefined) error.path = e.path;
    if (e.row !== undefined) error.row = e.row;
    if (e.col !== undefined) error.column = names[e.col] || columnLetter(e.col);
    return { ...error, message: e.message };
  });
  return { ok: false, kind, errors: capErrors(out) };
}

function locateIssue(issue: Issue, locate: Built['locate']): TableError {
  const loc = locate(issue.path);
  let message = issue.message;
  if (issue.firstAt) {
    const first = locate(issue.firstAt);
    if (first?.row !== undefined && first.row !== loc?.row) {
      message += ` (first at row ${first.row})`;
    } else if (first?.col !== undefined) {
      message += ` (first at column ${columnLetter(first.col)})`;
    } else {
      message += ` (first at ${formatPath(issue.firstAt)})`;
    }
  }
  if (!loc) return { path: formatPath(issue.path), message };
  return { ...loc, message };
}

/** The field-count error of a CSV row, if any; XLSX rows have no field count. */
function raggedRow(header: TableRow, r: TableRow, delimiter = ','): TableError | undefined {
  if (header.fields === undefined || r.fields === undefined) return undefined;
  const message = fieldCountProblem(r.fields, header.fields, r.cells, delimiter);
  return message ? { row: r.row, message } : undefined;
}

function buildWide(header: TableRow, data: TableRow[], delimiter?: string): Built {
  const malformed: TableError[] = [];
  const invalid: TableError[] = [];
  const dimCols: number[] = [];
  // Column → dimension index; a Map keeps wide sheets linear in their cell count.
  const dimOfCol = new Map<number, number>();
  const doc: MatrixInput = { dimensions: [] };
  const levelRows: number[][] = [];
  header.cells.forEach((name, col) => {
    if (name === '') return;
    dimOfCol.set(col, dimCols.length);
    dimCols.push(col);
    doc.dimensions.push({ ...dimensionOf(name), levels: [] });
    levelRows.push([]);
  });
  const headerless = new Set<number>();
  for (const r of data) {
    const { row, cells } = r;
    // A ragged row's cells are not levels: they are probably split at the wrong delimiter.
    const ragged = raggedRow(header, r, delimiter);
    if (ragged) invalid.push(ragged);
    cells.forEach((value, col) => {
      if (value === '') return;
      const d = dimOfCol.get(col);
      if (d === undefined) {
        // One error per column is enough to explain the problem.
        if (!headerless.has(col)) {
          headerless.add(col);
          malformed.push({ row, col, message: headerlessMessage(col) });
        }
        return;
      }
      if (ragged) return;
      doc.dimensions[d]?.levels.push({ key: value });
      levelRows[d]?.push(row);
    });
  }
  const locate = (path: readonly PathSegment[]): Loc | undefined => {
    const [top, d, field, l] = path;
    if (top !== 'dimensions' || typeof d !== 'number') return undefined;
    const col = dimCols[d];
    if (col === undefined) return undefined;
    if (field === 'levels' && typeof l === 'number') return { row: levelRows[d]?.[l], col };
    return { row: header.row, col };
  };
  return { doc, locate, malformed, invalid };
}

function buildLong(header: TableRow, data: TableRow[], delimiter?: string): Built {
  const malformed: TableError[] = [];
  const invalid: TableError[] = [];
  const cols = new Map<LongColumn, number>();
  header.cells.forEach((name, col) => {
    if (name === '') return;
    const key = name.toLowerCase() as LongColumn;
    const first = cols.get(key);
    if (!LONG_COLUMNS.includes(key)) {
      malformed.push({
        row: header.row,
        col,
        message: `unknown column "${name}": the long form has the columns ${LONG_COLUMNS.join(', ')}`,
      });
    } else if (first !== undefined) {
      malformed.push({
        row: header.row,
        col,
        message: `duplicate column "${name}" (first at column ${columnLetter(first)})`,
      });
    } else {
      cols.set(key, col);
    }
  });
  const dimCol = cols.get('dimension') ?? 0;
  const levelCol = cols.get('level') ?? 0;
  const headerless = new Set<number>();
  const ragged = new Set<TableRow>();
  for (const r of data) {
    const { row, cells } = r;
    const problem = raggedRow(header, r, delimiter);
    if (problem) {
      invalid.push(problem);
      ragged.add(r);
      continue;
    }
    cells.forEach((value, col) => {
      if (value === '' || header.cells[col] || headerless.has(col)) return;
      headerless.add(col);
      malformed.push({ row, col, message: headerlessMessage(col) });
    });
  }
  if (malformed.length > 0)
    return { doc: { dimensions: [] }, locate: () => undefined, malformed, invalid };

  const doc: MatrixInput = { dimensions: [] };
  const dimIndex = new Map<string, number>();
  const dimRows: number[] = [];
  const levelRows: number[][] = [];
  const cell = (cells: string[], name: LongColumn) => {
    const col = cols.get(name);
    return col === undefined ? '' : (cells[col] ?? '');
  };
  for (const r of data) {
    if (ragged.has(r)) continue;
    const { row, cells } = r;
    const dimKey = cell(cells, 'dimension');
    const levelKey = cell(cells, 'level');
    if (dimKey === '') invalid.push({ row, col: dimCol, message: 'dimension is empty' });
    if (levelKey === '') invalid.push({ row, col: levelCol, message: 'level is empty' });
    if (dimKey === '' || levelKey === '') continue;
    const dimension = dimensionOf(dimKey);
    let d = dimIndex.get(dimension.key);
    if (d === undefined) {
      d = doc.dimensions.length;
      dimIndex.set(dimension.key, d);
      doc.dimensions.push({ ...dimension, levels: [] });
      dimRows.push(row);
      levelRows.push([]);
    }
    const level: MatrixInput['dimensions'][number]['levels'][number] = { key: levelKey };
    const label = cell(cells, 'label');
    const prompt = cell(cells, 'prompt');
    const assetId = cell(cells, 'asset_id');
    if (label) level.label = label;
    if (prompt) level.prompt = prompt;
    if (assetId) level.asset_id = assetId;
    const backgroundId = cell(cells, 'background_asset_id');
    if (backgroundId) level.background_asset_id = backgroundId;
    // Provider names are lowercase ids; spreadsheet users capitalise ("Runway"). Model ids are
    // case-sensitive and kept as typed.
    const provider = cell(cells, 'provider').toLowerCase();
    const model = cell(cells, 'model');
    // Checked by the schema like a JSON level's; the cast only lets a typo reach it.
    type Video = NonNullable<typeof level.video>;
    if (provider) level.video = (model ? { provider, model } : { provider }) as Video;
    else if (model)
      invalid.push({
        row,
        col: cols.get('model') ?? levelCol,
        message: 'model needs a provider in the same row',
      });
    doc.dimensions[d]?.levels.push(level);
    levelRows[d]?.push(row);
  }
  const locate = (path: readonly PathSegment[]): Loc | undefined => {
    const [top, d, field, l, attr, sub] = path;
    if (top !== 'dimensions' || typeof d !== 'number') return undefined;
    if (field === 'levels' && typeof l === 'number') {
      // A level's video.provider and video.model are the provider and model columns.
      const name = attr === 'video' ? (sub ?? 'provider') : attr;
      const col =
        typeof name === 'string' && name !== 'key' ? cols.get(name as LongColumn) : levelCol;
      return { row: levelRows[d]?.[l], col: col ?? levelCol };
    }
    return { row: dimRows[d], col: dimCol };
  };
  return { doc, locate, malformed, invalid };
}

function headerlessMessage(col: number): string {
  return `column ${columnLetter(col)} has values but no header`;
}
