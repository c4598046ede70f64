import { DesignError } from './errors.ts';
import { countClauses, existsClauses, involvedDims } from './solver.ts';
import type { DesignSpace } from './types.ts';

/**
 * Exclusions compiled to clauses. A clause excludes every combination matching all its terms.
 * Compilation intersects terms on the same dimension, drops terms that every level satisfies and
 * drops clauses that can never match, so the solvers only see informative terms.
 */
export interface Term {
  readonly dim: number;
  /** mask[level] === 1 when the term matches that level. */
  readonly mask: Uint8Array;
  /** Number of matching levels: strictly between 0 and the dimension's level count. */
  readonly size: number;
  /** Stable id used for memo keys. */
  readonly id: number;
}
export type Clause = readonly Term[];

export interface CompiledSpace {
  readonly levels: readonly number[];
  readonly k: number;
  readonly clauses: readonly Clause[];
  /** Index of the input exclusion each clause came from. */
  readonly source: readonly number[];
  /** True when some exclusion matches every combination. */
  readonly empty: boolean;
  /** Index of the first exclusion matching every combination, -1 if none. */
  readonly emptySource: number;
  /** Clauses mentioning each dimension (for incremental checks of one changed cell). */
  readonly byDim: readonly (readonly Clause[])[];
}

const MAX_LEVELS = 0xffff;

function invalid(message: string, dim?: number): DesignError {
  return new DesignError('invalid_space', message, dim === undefined ? {} : { dim });
}

export function compileSpace(space: DesignSpace): CompiledSpace {
  if (space === null || typeof space !== 'object' || !Array.isArray(space.levels)) {
    throw invalid('space.levels must be an array');
  }
  const levels = space.levels;
  levels.forEach((s, d) => {
    if (!Number.isInteger(s) || s < 1 || s > MAX_LEVELS) {
      throw invalid(`levels[${d}] must be an integer in 1..${MAX_LEVELS}`, d);
    }
  });
  if (!Array.isArray(space.exclusions)) throw invalid('space.exclusions must be an array');
  const k = levels.length;
  const clauses: Clause[] = [];
  const source: number[] = [];
  let emptySource = -1;
  let nextId = 0;
  space.exclusions.forEach((exclusion, e) => {
    if (!Array.isArray(exclusion) || exclusion.length === 0) {
      // An empty conjunction would silently exclude everything; treat it as a caller bug.
      throw invalid(`exclusions[${e}] must be a non-empty array of terms`);
    }
    const masks = new Map<number, Uint8Array>();
    for (const term of exclusion) {
      const dim = term?.dim;
      if (!Number.isInteger(dim) || dim < 0 || dim >= k || !Array.isArray(term.levels)) {
        throw invalid(`exclusions[${e}] has a term with an invalid dim or levels`);
      }
      const s = levels[dim]!;
      const mask = new Uint8Array(s);
      for (const level of term.levels) {
        if (!Number.isInteger(level) || level < 0 || level >= s) {
          throw invalid(`exclusions[${e}] names level ${level} outside 0..${s - 1}`, dim);
        }
        mask[level] = 1;
      }
      const prev = masks.get(dim);
      if (prev) for (let l = 0; l < s; l++) prev[l]! &= mask[l]!;
      else masks.set(dim, mask);
    }
    const terms: Term[] = [];
    let never = false;
    for (const [dim, mask] of [...masks].sort((a, b) => a[0] - b[0])) {
      let size = 0;
      for (const bit of mask) size += bit;
      if (size === 0) never = true;
      else if (size < levels[dim]!) terms.push({ dim, mask, size, id: nextId++ });
    }
    if (never) return;
    if (terms.length === 0) {
      if (emptySource < 0) emptySource = e;
    } else {
      clauses.push(terms);
      source.push(e);
    }
  });
  const byDim: Clause[][] = Array.from({ length: k }, () => []);
  for (const clause of clauses) for (const t of clause) byDim[t.dim]!.push(clause);
  return { levels, k, clauses, source, empty: emptySource >= 0, emptySource, byDim };
}

export function clauseMatches(clause: Clause, row: ArrayLike<number>): boolean {
  for (const t of clause) if (t.mask[row[t.dim]!] !== 1) return false;
  return true;
}

/** Row must be in range; checks every clause. */
export function rowAllowed(cs: CompiledSpace, row: ArrayLike<number>): boolean {
  if (cs.empty) return false;
  for (const clause of cs.clauses) if (clauseMatches(clause, row)) return false;
  return true;
}

/** Whether a row known to be allowed stays allowed after its cell `dim` changed. */
export function rowAllowedAfterChange(
  cs: CompiledSpace,
  row: ArrayLike<number>,
  dim: number,
): boolean {
  for (const clause of cs.byDim[dim]!) if (clauseMatches(clause, row)) return false;
  return true;
}

/**
 * Clauses that still constrain the free dimensions once the `fixed` ones (level >= 0, -1 = free)
 * are set; null when a clause is already fully matched (no completion is allowed).
 */
export function residualClauses(cs: CompiledSpace, fixed: ArrayLike<number>): Clause[] | null {
  if (cs.empty) return null;
  const out: Clause[] = [];
  for (const clause of cs.clauses) {
    let rest: Term[] | null = null;
    let dead = false;
    for (let i = 0; i < clause.length; i++) {
      const t = clause[i]!;
      const v = fixed[t.dim]!;
      if (v < 0) {
        if (rest) rest.push(t);
        continue;
      }
      if (t.mask[v] !== 1) {
        dead = true;
        break;
      }
      rest ??= clause.slice(0, i).filter((u) => fixed[u.dim]! < 0);
    }
    if (dead) continue;
    const kept = rest ?? clause;
    if (kept.length === 0) return null;
    out.push(kept);
  }
  return out;
}

/** Exact count of allowed completions of `fixed` (-1 = free dimension). */
export function countCompletions(cs: CompiledSpace, fixed: ArrayLike<number>): bigint {
  const rest = residualClauses(cs, fixed);
  if (rest === null) return 0n;
  const involved = involvedDims(rest);
  let free = 1n;
  for (let d = 0; d < cs.k; d++) {
    if (fixed[d]! < 0 && !involved.has(d)) free *= BigInt(cs.levels[d]!);
  }
  return free * countClauses(rest, cs.levels, new Map());
}

/**
 * Fast path for extending a partial row known to have an allowed completion by setting `dim`:
 * completion can only be lost through a clause whose term on `dim` matches the new level and
 * that no other fixed level already dodges. False means "certainly still completable".
 */
export function mayStrand(cs: CompiledSpace, fixed: ArrayLike<number>, dim: number): boolean {
  for (const clause of cs.byDim[dim]!) {
    let live = true;
    for (const t of clause) {
      const v = fixed[t.dim]!;
      if (v >= 0 && t.mask[v] !== 1) {
        live = false;
        break;
      }
    }
    if (live) return true;
  }
  return false;
}

/** Whether `fixed` (-1 = free dimension) has at least one allowed completion. */
export function hasCompletion(cs: CompiledSpace, fixed: ArrayLike<number>): boolean {
  const rest = residualClauses(cs, fixed);
  return rest !== null && existsClauses(rest, cs.levels, new Map());
}

export function totalCombinations(levels: readonly number[]): bigint {
  let total = 1n;
  for (const s of levels) total *= BigInt(s);
  return total;
}

export function compiledCount(cs: CompiledSpace): bigint {
  return countCompletions(cs, new Int32Array(cs.k).fill(-1));
}

/**
 * Exact number of allowed combinations, without enumerating: independent groups of exclusions
 * multiply, and inside a group the solver branches on level classes of the busiest dimension
 * (memoised), which stays instant for 10^20 spaces with dozens of exclusions.
 * Throws DesignError('invalid_space') on malformed input.
 */
export function countAllowed(space: DesignSpace): bigint {
  return compiledCount(compileSpace(space));
}

/**
 * Whether `combo` is a valid, allowed combination of `space`: false (not an error) when it has
 * the wrong length or a level out of range. Throws DesignError('invalid_space') on a malformed
 * space.
 */
export function isAllowed(space: DesignSpace, combo: readonly number[]): boolean {
  const cs = compileSpace(space);
  if (!Array.isArray(combo) || combo.length !== cs.k) return false;
  for (let d = 0; d < cs.k; d++) {
    const v = combo[d]!;
    if (!Number.isInteger(v) || v < 0 || v >= cs.levels[d]!) return false;
  }
  return rowAllowed(cs, combo);
}
