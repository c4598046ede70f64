import * as covertable from 'covertable';
import type { DesignSpace, Exclusion } from '../../../src/matrices/designs/index.ts';
import { createRng, type Rng } from '../../../src/matrices/designs/rng.ts';

/** Reference semantics, written independently of the library: excluded when ANY exclusion has ALL terms match. */
export function bruteAllowed(space: DesignSpace, combo: readonly number[]): boolean {
  return !space.exclusions.some((ex) => ex.every((t) => t.levels.includes(combo[t.dim]!)));
}

/** Every combination in lexicographic order (first dimension slowest). */
export function* allCombos(levels: readonly number[]): Generator<number[]> {
  const cur = new Array<number>(levels.length).fill(0);
  if (levels.some((s) => s === 0)) return;
  for (;;) {
    yield cur.slice();
    let d = levels.length - 1;
    while (d >= 0 && ++cur[d]! === levels[d]!) cur[d--] = 0;
    if (d < 0) return;
  }
}

export function bruteAllowedCombos(space: DesignSpace): number[][] {
  return [...allCombos(space.levels)].filter((c) => bruteAllowed(space, c));
}

/**
 * Set of "i:a|j:b" pairs contained in some allowed combination. Without exclusions that is every
 * pair, listed directly so that large spaces (3^13) need no enumeration.
 */
export function bruteAllowedPairs(space: DesignSpace): Set<string> {
  const out = new Set<string>();
  const { levels } = space;
  if (space.exclusions.length === 0) {
    for (let i = 0; i < levels.length; i++) {
      for (let j = i + 1; j < levels.length; j++) {
        for (let a = 0; a < levels[i]!; a++) {
          for (let b = 0; b < levels[j]!; b++) out.add(`${i}:${a}|${j}:${b}`);
        }
      }
    }
    return out;
  }
  for (const c of bruteAllowedCombos(space)) for (const p of pairsOf(c)) out.add(p);
  return out;
}

export function pairsOf(combo: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < combo.length; i++) {
    for (let j = i + 1; j < combo.length; j++) out.push(`${i}:${combo[i]}|${j}:${combo[j]}`);
  }
  return out;
}

/** Random small space with random exclusions (1-3 terms each, random level subsets). */
export function randomSpace(rng: Rng, maxDims = 5, maxLevels = 4, maxExclusions = 6): DesignSpace {
  const k = 1 + rng.int(maxDims);
  const levels = Array.from({ length: k }, () => 1 + rng.int(maxLevels));
  const exclusions: Exclusion[] = [];
  const count = rng.int(maxExclusions + 1);
  for (let e = 0; e < count; e++) {
    const terms = 1 + rng.int(Math.min(3, k));
    const exclusion: Exclusion = [];
    for (let t = 0; t < terms; t++) {
      const dim = rng.int(k);
      const chosen = [];
      for (let l = 0; l < levels[dim]!; l++) if (rng.next() < 0.4) chosen.push(l);
      exclusion.push({ dim, levels: chosen });
    }
    exclusions.push(exclusion);
  }
  return { levels, exclusions };
}

export { createRng };

type Make = (
  factors: number[][],
  options?: { preFilter?: (row: number[]) => boolean },
) => unknown[];

/** covertable is CommonJS whose named exports Node's ESM loader cannot see; resolve either way. */
export function covertableMake(): Make {
  const mod = covertable as unknown as { make?: Make; default?: Make | { make: Make } };
  if (typeof mod.make === 'function') return mod.make;
  const d = mod.default!;
  return typeof d === 'function' ? d : d.make;
}

export function covertableSize(space: DesignSpace): number {
  const factors = space.levels.map((s) => Array.from({ length: s }, (_, i) => i));
  const make = covertableMake();
  if (space.exclusions.length === 0) return make(factors).length;
  return make(factors, { preFilter: (row) => bruteAllowed(space, row) }).length;
}
