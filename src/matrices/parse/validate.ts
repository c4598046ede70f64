import type { z } from 'zod';
import { type MatrixInput, matrixInputSchema } from './schema.ts';
import type {
  DesignSpace,
  MatrixError,
  MatrixLimits,
  MatrixResult,
  NormalizedConstraint,
  NormalizedLevel,
  NormalizedMatrix,
} from './types.ts';

export type PathSegment = string | number;

/** A problem located by JSON path; the CSV/XLSX layer re-locates it to a row and column. */
export interface Issue {
  path: PathSegment[];
  message: string;
  /** Where the value this one duplicates was first seen; rendered per format. */
  firstAt?: PathSegment[];
}

type CheckResult =
  | { ok: true; matrix: NormalizedMatrix }
  | { ok: false; kind: 'malformed' | 'invalid'; issues: Issue[] };

const MAX_REPORTED_ERRORS = 100;

// zod issues that mean "not the shape of a matrix document" rather than "a bad value".
const STRUCTURAL_CODES = new Set(['invalid_type', 'unrecognized_keys', 'invalid_union']);

/** Same normalization the schema applies to level keys, for comparing raw input. */
function normalizeLevelKey(key: string): string {
  return key.trim().normalize('NFC');
}

function foldCase(key: string): string {
  return normalizeLevelKey(key).toLowerCase();
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Keeps responses bounded; `total` is the full count when `errors` was already cut. */
export function capErrors(errors: MatrixError[], total = errors.length): MatrixError[] {
  if (total <= MAX_REPORTED_ERRORS) return errors;
  return [
    ...errors.slice(0, MAX_REPORTED_ERRORS),
    { message: `${total - MAX_REPORTED_ERRORS} more errors not listed` },
  ];
}

/**
 * Validates a JSON matrix document (already parsed from JSON, of unknown shape) and returns it
 * normalized: keys trimmed and NFC-normalized, labels defaulted to keys, blank optional strings
 * dropped, constraints as `{ exclude: { dim: [levels…] } }` in matrix order.
 */
export function validateMatrix(doc: unknown, limits: MatrixLimits): MatrixResult {
  const result = checkMatrix(doc, limits);
  if (result.ok) return result;
  // Only the reported ones are formatted; capErrors needs just the count of the rest.
  const errors = result.issues.slice(0, MAX_REPORTED_ERRORS).map(
    (issue): MatrixError => ({
      path: formatPath(issue.path),
      message: issue.firstAt
        ? `${issue.message} (first at ${formatPath(issue.firstAt)})`
        : issue.message,
    }),
  );
  return { ok: false, kind: result.kind, errors: capErrors(errors, result.issues.length) };
}

export function checkMatrix(input: unknown, limits: MatrixLimits): CheckResult {
  const { doc, issues: countIssues } = withinLimits(input, limits);
  const parsed = matrixInputSchema.safeParse(doc);
  if (parsed.success) {
    const issues = [...countIssues, ...semanticIssues(parsed.data)];
    return issues.length > 0
      ? { ok: false, kind: 'invalid', issues }
      : { ok: true, matrix: normalize(parsed.data) };
  }
  const schemaIssues = parsed.error.issues.map(fromZodIssue);
  if (parsed.error.issues.some((i) => STRUCTURAL_CODES.has(i.code))) {
    return { ok: false, kind: 'malformed', issues: schemaIssues };
  }
  // Only values failed their checks, so the types are right and the semantic checks can still
  // run on the raw document: the caller then gets every problem in one response.
  const issues = [...countIssues, ...schemaIssues, ...semanticIssues(doc as MatrixInput)];
  return { ok: false, kind: 'invalid', issues };
}

/**
 * Cuts the document down to the configured counts before anything else looks at it, with one
 * issue per cut: a 2 MB upload of 200,000 levels would otherwise take seconds of schema work
 * only to be rejected, and items past a limit have to go anyway.
 */
function withinLimits(doc: unknown, limits: MatrixLimits): { doc: unknown; issues: Issue[] } {
  if (!isRecord(doc) || !Array.isArray(doc.dimensions)) return { doc, issues: [] };
  const issues: Issue[] = [];
  let dims: unknown[] = doc.dimensions;
  if (dims.length > limits.maxDimensions) {
    issues.push({
      path: ['dimensions', limits.maxDimensions],
      message: `too many dimensions: ${dims.length} (the limit is ${limits.maxDimensions})`,
    });
    dims = dims.slice(0, limits.maxDimensions);
  }
  const max = limits.maxLevelsPerDimension;
  dims = dims.map((dim, d) => {
    if (!isRecord(dim) || !Array.isArray(dim.levels) || dim.levels.length <= max) return dim;
    issues.push({
      path: ['dimensions', d, 'levels', max],
      message: `too many levels in dimension "${String(dim.key)}": ${dim.levels.length} (the limit is ${max})`,
    });
    return { ...dim, levels: dim.levels.slice(0, max) };
  });
  const out: Record<string, unknown> = { ...doc, dimensions: dims };
  const constraints = doc.constraints;
  if (Array.isArray(constraints) && constraints.length > limits.maxConstraints) {
    issues.push({
      path: ['constraints', limits.maxConstraints],
      message: `too many constraints: ${constraints.length} (the limit is ${limits.maxConstraints})`,
    });
    out.constraints = constraints.slice(0, limits.maxConstraints);
  }
  return { doc: out, issues };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fromZodIssue(issue: z.core.$ZodIssue): Issue {
  const path = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return { path, message: `unknown field(s): ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
  }
  return { path, message: issue.message };
}

function semanticIssues(doc: MatrixInput): Issue[] {
  const issues: Issue[] = [];
  const add = (path: PathSegment[], message: string, firstAt?: PathSegment[]) => {
    issues.push(firstAt ? { path, message, firstAt } : { path, message });
  };
  const dims = doc.dimensions;
  if (dims.length === 0) add(['dimensions'], 'the matrix has no dimensions');

  const dimIndex = new Map<string, number>();
  const levelKeys: Array<Set<string>> = [];
  dims.forEach((dim, d) => {
    const first = dimIndex.get(dim.key);
    if (first === undefined) dimIndex.set(dim.key, d);
    else
      add(['dimensions', d, 'key'], `duplicate dimension key "${dim.key}"`, ['dimensions', first]);

    const levels = dim.levels;
    if (levels.length === 0)
      add(['dimensions', d, 'levels'], `dimension "${dim.key}" has no levels`);
    // Case-insensitive so that "Paris" and "paris" cannot become two levels that look alike in
    // reports and collide in case-insensitive stores; lookups elsewhere stay exact.
    const seen = new Map<string, number>();
    const exact = new Set<string>();
    levels.forEach((level, l) => {
      const key = normalizeLevelKey(level.key);
      if (key === '') return;
      exact.add(key);
      const folded = key.toLowerCase();
      const prior = seen.get(folded);
      if (prior === undefined) {
        seen.set(folded, l);
        return;
      }
      const priorKey = normalizeLevelKey(levels[prior]?.key ?? '');
      const message =
        priorKey === key
          ? `duplicate level key "${key}"`
          : `level key "${key}" duplicates "${priorKey}" ignoring case`;
      add(['dimensions', d, 'levels', l, 'key'], message, ['dimensions', d, 'levels', prior]);
    });
    levelKeys.push(exact);
  });

  const constraints = doc.constraints ?? [];
  constraints.forEach((constraint, c) => {
    const base: PathSegment[] = ['constraints', c, 'exclude'];
    const terms = Object.entries(constraint.exclude);
    if (terms.length === 0) add(base, 'constraint has no terms: name at least one dimension');
    for (const [dimKey, value] of terms) {
      const d = dimIndex.get(dimKey);
      if (d === undefined) {
        const near = dims.find((dim) => dim.key === dimKey.toLowerCase());
        add(
          [...base, dimKey],
          `unknown dimension "${dimKey}"${near ? ` (did you mean "${near.key}"?)` : ''}`,
        );
        continue;
      }
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0) add([...base, dimKey], `no levels given for dimension "${dimKey}"`);
      values.forEach((raw, v) => {
        const key = normalizeLevelKey(raw);
        if (levelKeys[d]?.has(key)) return;
        const near = dims[d]?.levels.find((lv) => foldCase(lv.key) === key.toLowerCase());
        const hint = near ? ` (did you mean "${normalizeLevelKey(near.key)}"?)` : '';
        const path = Array.isArray(value) ? [...base, dimKey, v] : [...base, dimKey];
        add(path, `unknown level "${key}" in dimension "${dimKey}"${hint}`);
      });
    }
  });
  return issues;
}

type ParsedMatrix = z.output<typeof matrixInputSchema>;

function normalize(doc: ParsedMatrix): NormalizedMatrix {
  const dimensions = doc.dimensions.map((dim) => ({
    key: dim.key,
    label: dim.label || dim.key,
    levels: dim.levels.map((level) => {
      const out: NormalizedLevel = { key: level.key, label: level.label || level.key };
      if (level.prompt) out.prompt = level.prompt;
      if (level.asset_id) out.asset_id = level.asset_id;
      if (level.background_asset_id) out.background_asset_id = level.background_asset_id;
      if (level.metadata) out.metadata = level.metadata;
      if (level.video)
        out.video = level.video.model
          ? { provider: level.video.provider, model: level.video.model }
          : { provider: level.video.provider };
      return out;
    }),
  }));
  const constraints = (doc.constraints ?? []).map((constraint): NormalizedConstraint => {
    const exclude: Record<string, string[]> = {};
    // Matrix order, not input order, so that equal constraints compare equal.
    for (const dim of dimensions) {
      const value = constraint.exclude[dim.key];
      if (value === undefined) continue;
      const wanted = new Set((Array.isArray(value) ? value : [value]).map(normalizeLevelKey));
      exclude[dim.key] = dim.levels.filter((lv) => wanted.has(lv.key)).map((lv) => lv.key);
    }
    return { exclude };
  });
  return doc.name ? { name: doc.name, dimensions, constraints } : { dimensions, constraints };
}

/** Indices for the design generators: level counts and, per constraint, the excluded indices. */
export function toDesignSpace(matrix: NormalizedMatrix): DesignSpace {
  const dimIndex = new Map(matrix.dimensions.map((dim, i) => [dim.key, i]));
  const exclusions = matrix.constraints.map((constraint) => {
    const terms: Array<{ dim: number; levels: number[] }> = [];
    for (const [key, levelKeys] of Object.entries(constraint.exclude)) {
      const dim = dimIndex.get(key);
      const levels = dim === undefined ? undefined : matrix.dimensions[dim]?.levels;
      if (dim === undefined || !levels) {
        throw new Error(`constraint names unknown dimension "${key}"; validate the matrix first`);
      }
      const indices = levelKeys.map((lk) => {
        const i = levels.findIndex((lv) => lv.key === lk);
        if (i < 0) throw new Error(`constraint names unknown level "${key}=${lk}"`);
        return i;
      });
      terms.push({ dim, levels: indices });
    }
    return terms.sort((a, b) => a.dim - b.dim);
  });
  return { levels: matrix.dimensions.map((dim) => dim.levels.length), exclusions };
}
