import type { Clause, Term } from './space.ts';

/**
 * Exact counting and satisfiability over compiled exclusions (a #DNF / model-counting problem).
 * Independent groups of clauses multiply; inside a group the search branches on the dimension
 * in most clauses, merging levels every clause treats alike, memoising residual problems and
 * dropping subsumed clauses; tiny groups go through inclusion–exclusion directly.
 *
 * A few dozen 1-3 term exclusions on a 10^20 space count in 0.5-60 ms (random trials);
 * the worst case found, 36 random 1-4 term exclusions each matching half the levels
 * of its dimensions on 10^20, takes about 1.6 s of CPU. The problem is #P-hard in general.
 */

/** Dimensions mentioned by any clause. */
export function involvedDims(clauses: readonly Clause[]): Set<number> {
  const dims = new Set<number>();
  for (const c of clauses) for (const t of c) dims.add(t.dim);
  return dims;
}

/** Splits clauses into groups sharing no dimension; such groups constrain independently. */
function components(clauses: readonly Clause[]): Clause[][] {
  if (clauses.length < 2) return [clauses.slice()];
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const c of clauses) {
    for (const t of c) if (!parent.has(t.dim)) parent.set(t.dim, t.dim);
    const root = find(c[0]!.dim);
    for (const t of c) parent.set(find(t.dim), root);
  }
  const groups = new Map<number, Clause[]>();
  for (const c of clauses) {
    const root = find(c[0]!.dim);
    const g = groups.get(root);
    if (g) g.push(c);
    else groups.set(root, [c]);
  }
  return [...groups.values()];
}

function memoKey(clauses: readonly Clause[]): string {
  return clauses
    .map((c) => c.map((t) => t.id).join(','))
    .sort()
    .join('|');
}

interface Branch {
  /** Number of levels of the branch dimension sharing this behaviour. */
  weight: number;
  clauses: Clause[];
  /** Product of level counts of dimensions that dropped out of every clause. */
  freed: bigint;
}

/**
 * Branches on the dimension in most clauses. Levels that every clause treats alike are merged,
 * so a 50-level dimension split by one term costs two branches, not fifty.
 */
function branches(clauses: readonly Clause[], levels: readonly number[]): Branch[] | null {
  const occurrences = new Map<number, number>();
  for (const c of clauses)
    for (const t of c) occurrences.set(t.dim, (occurrences.get(t.dim) ?? 0) + 1);
  let dim = -1;
  let most = 0;
  for (const [d, n] of occurrences) if (n > most || (n === most && d < dim)) [dim, most] = [d, n];
  const touching: { clause: number; term: Term }[] = [];
  clauses.forEach((c, i) => {
    for (const t of c) if (t.dim === dim) touching.push({ clause: i, term: t });
  });
  const groups = new Map<string, { rep: number; weight: number }>();
  for (let l = 0; l < levels[dim]!; l++) {
    let sig = '';
    for (const { term } of touching) sig += term.mask[l];
    const g = groups.get(sig);
    if (g) g.weight++;
    else groups.set(sig, { rep: l, weight: 1 });
  }
  const before = involvedDims(clauses);
  const out: Branch[] = [];
  for (const { rep, weight } of groups.values()) {
    const next: Clause[] = [];
    let all = false;
    clauses.forEach((c) => {
      const t = c.find((u) => u.dim === dim);
      if (!t) next.push(c);
      else if (t.mask[rep] === 1) {
        const rest = c.filter((u) => u.dim !== dim);
        if (rest.length === 0) all = true;
        next.push(rest);
      }
    });
    if (all) continue; // every completion is excluded: contributes nothing
    const after = involvedDims(next);
    let freed = 1n;
    for (const d of before) if (d !== dim && !after.has(d)) freed *= BigInt(levels[d]!);
    out.push({ weight, clauses: next, freed });
  }
  return out.length === 0 ? null : out;
}

/** Whether clause `a` matches every combination `b` matches, making `b` redundant. */
function subsumes(a: Clause, b: Clause): boolean {
  for (const ta of a) {
    const tb = b.find((t) => t.dim === ta.dim);
    if (tb === undefined || tb.size > ta.size) return false;
    if (tb.id === ta.id) continue;
    for (let l = 0; l < tb.mask.length; l++) if (tb.mask[l] === 1 && ta.mask[l] !== 1) return false;
  }
  return true;
}

/**
 * Branching strips terms off clauses, so shorter clauses keep appearing that make longer ones
 * redundant; dropping those keeps the branching factor and the memo keys small.
 */
function dropSubsumed(clauses: readonly Clause[]): readonly Clause[] {
  if (clauses.length < 2) return clauses;
  const sorted = [...clauses].sort((a, b) => a.length - b.length);
  const kept: Clause[] = [];
  for (const c of sorted) if (!kept.some((a) => subsumes(a, c))) kept.push(c);
  return kept.length === clauses.length ? clauses : kept;
}

/**
 * Allowed count for a handful of clauses by inclusion–exclusion: cheaper than branching at the
 * leaves of the search, where most calls have two or three clauses left.
 */
function inclusionExclusion(clauses: readonly Clause[], levels: readonly number[]): bigint {
  const dims = [...involvedDims(clauses)];
  let all = 1n;
  for (const d of dims) all *= BigInt(levels[d]!);
  let excluded = 0n;
  for (let subset = 1; subset < 1 << clauses.length; subset++) {
    let product = 1n;
    let picked = 0;
    for (const d of dims) {
      const terms: Term[] = [];
      for (let i = 0; i < clauses.length; i++) {
        if (((subset >> i) & 1) === 0) continue;
        const t = clauses[i]!.find((u) => u.dim === d);
        if (t) terms.push(t);
      }
      let common = 0;
      for (let l = 0; l < levels[d]!; l++) if (terms.every((t) => t.mask[l] === 1)) common++;
      product *= BigInt(common);
      if (common === 0) break;
    }
    for (let s = subset; s > 0; s >>= 1) picked += s & 1;
    excluded += picked % 2 === 1 ? product : -product;
  }
  return all - excluded;
}

/** Number of assignments of the dimensions mentioned by `clauses` that match none of them. */
export function countClauses(
  clauses: readonly Clause[],
  levels: readonly number[],
  memo: Map<string, bigint>,
): bigint {
  if (clauses.length === 0) return 1n;
  // Most calls deep in the search repeat an earlier residual problem: look it up first.
  const key = memoKey(clauses);
  const cached = memo.get(key);
  if (cached !== undefined) return cached;
  const total = countFresh(clauses, levels, memo);
  memo.set(key, total);
  return total;
}

function countFresh(
  clauses: readonly Clause[],
  levels: readonly number[],
  memo: Map<string, bigint>,
): bigint {
  const reduced = dropSubsumed(clauses);
  if (reduced !== clauses) {
    const still = involvedDims(reduced);
    let freed = 1n;
    for (const d of involvedDims(clauses)) if (!still.has(d)) freed *= BigInt(levels[d]!);
    return freed * countClauses(reduced, levels, memo);
  }
  const parts = components(clauses);
  if (parts.length > 1) {
    let product = 1n;
    for (const part of parts) {
      product *= countClauses(part, levels, memo);
      if (product === 0n) return 0n;
    }
    return product;
  }
  if (clauses.length <= 2) return inclusionExclusion(clauses, levels);
  let total = 0n;
  for (const b of branches(clauses, levels) ?? []) {
    total += BigInt(b.weight) * b.freed * countClauses(b.clauses, levels, memo);
  }
  return total;
}

/**
 * First-fit witness: dodge each clause in turn by setting one of its still-free dimensions to a
 * level outside the term. Settles almost every query on sparse exclusions in linear time; a
 * false answer only means "search properly".
 */
function quickDodge(clauses: readonly Clause[], levels: readonly number[]): boolean {
  const chosen = new Map<number, number>();
  outer: for (const clause of clauses) {
    for (const t of clause) {
      const v = chosen.get(t.dim);
      if (v !== undefined && t.mask[v] !== 1) continue outer;
    }
    for (const t of clause) {
      if (chosen.has(t.dim)) continue;
      for (let l = 0; l < levels[t.dim]!; l++) {
        if (t.mask[l] !== 1) {
          chosen.set(t.dim, l);
          continue outer;
        }
      }
    }
    return false;
  }
  return true;
}

export function existsClauses(
  clauses: readonly Clause[],
  levels: readonly number[],
  memo: Map<string, boolean>,
): boolean {
  // A single clause whose terms all leave some level free can always be dodged.
  if (clauses.length <= 1 || quickDodge(clauses, levels)) return true;
  const reduced = dropSubsumed(clauses);
  if (reduced !== clauses) return existsClauses(reduced, levels, memo);
  const parts = components(clauses);
  if (parts.length > 1) return parts.every((p) => existsClauses(p, levels, memo));
  const key = memoKey(clauses);
  const cached = memo.get(key);
  if (cached !== undefined) return cached;
  const found = (branches(clauses, levels) ?? []).some((b) =>
    existsClauses(b.clauses, levels, memo),
  );
  memo.set(key, found);
  return found;
}
