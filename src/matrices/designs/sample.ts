import { tooManyVariants } from './errors.ts';
import { enumerateAllowed, flatToRows } from './full.ts';
import { type Rng, randomBigBelow } from './rng.ts';
import {
  type CompiledSpace,
  compiledCount,
  countCompletions,
  residualClauses,
  rowAllowed,
  totalCombinations,
} from './space.ts';

/** Draws one uniformly distributed allowed row (the factory throws if there is none). */
type RowSampler = (rng: Rng) => Int32Array;

/**
 * Uniform sampler over allowed rows that never enumerates the space. When at least 1/32 of the
 * space is allowed, plain rejection is cheapest; otherwise each dimension's level is drawn with
 * probability proportional to the exact number of allowed completions (levels the residual
 * exclusions treat alike share one count).
 */
export function createRowSampler(cs: CompiledSpace, allowed = compiledCount(cs)): RowSampler {
  if (allowed === 0n) throw new RangeError('no allowed combination to sample');
  const k = cs.k;
  const levels = cs.levels;
  if (allowed * 32n >= totalCombinations(levels)) {
    return (rng) => {
      const row = new Int32Array(k);
      do {
        for (let d = 0; d < k; d++) row[d] = rng.int(levels[d]!);
      } while (!rowAllowed(cs, row));
      return row;
    };
  }
  return (rng) => {
    const row = new Int32Array(k).fill(-1);
    for (let d = 0; d < k; d++) {
      const rest = residualClauses(cs, row) ?? [];
      const terms = rest.flatMap((c) => c.filter((t) => t.dim === d));
      if (terms.length === 0) {
        row[d] = rng.int(levels[d]!);
        continue;
      }
      const classes = new Map<string, number[]>();
      for (let l = 0; l < levels[d]!; l++) {
        let sig = '';
        for (const t of terms) sig += t.mask[l];
        const members = classes.get(sig);
        if (members) members.push(l);
        else classes.set(sig, [l]);
      }
      const weights: { members: number[]; weight: bigint }[] = [];
      let sum = 0n;
      for (const members of classes.values()) {
        row[d] = members[0]!;
        const weight = countCompletions(cs, row) * BigInt(members.length);
        weights.push({ members, weight });
        sum += weight;
      }
      let pick = randomBigBelow(sum, rng);
      for (const { members, weight } of weights) {
        if (pick < weight) {
          row[d] = members[rng.int(members.length)]!;
          break;
        }
        pick -= weight;
      }
    }
    return row;
  };
}

export function compareRows(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return a[d]! - b[d]!;
  return 0;
}

/**
 * `n` distinct allowed combinations, uniformly at random, sorted lexicographically.
 * n >= allowed count returns every allowed combination (same as `full`). When n is a large share
 * of a small space, the allowed rows are enumerated and a partial Fisher–Yates picks n of them;
 * otherwise rows are drawn with the sampler and duplicates redrawn.
 */
export function sampleDesign(
  cs: CompiledSpace,
  n: number,
  rng: Rng,
  maxVariants: number,
): number[][] {
  if (n > maxVariants) throw tooManyVariants(n, maxVariants);
  const allowed = compiledCount(cs);
  if (BigInt(n) >= allowed) return flatToRows(enumerateAllowed(cs, maxVariants));
  if (allowed <= BigInt(2 * n)) {
    const all = flatToRows(enumerateAllowed(cs, Number(allowed)));
    for (let i = 0; i < n; i++) {
      const j = i + rng.int(all.length - i);
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, n).sort(compareRows);
  }
  const sampler = createRowSampler(cs, allowed);
  const seen = new Set<string>();
  const rows: number[][] = [];
  while (rows.length < n) {
    const row = sampler(rng);
    const key = row.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(Array.from(row));
  }
  return rows.sort(compareRows);
}
