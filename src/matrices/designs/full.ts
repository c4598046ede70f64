import { tooManyVariants } from './errors.ts';
import { type Clause, type CompiledSpace, compiledCount } from './space.ts';
import type { FlatDesign } from './types.ts';

/**
 * Every allowed combination in lexicographic order (first dimension slowest), as a flat
 * Uint16Array. The exact count is known beforehand, so the buffer is allocated once and the
 * refusal for oversized spaces happens before any enumeration.
 */
export function enumerateAllowed(cs: CompiledSpace, maxVariants: number): FlatDesign {
  const total = compiledCount(cs);
  if (total > BigInt(maxVariants)) throw tooManyVariants(total, maxVariants);
  const count = Number(total);
  const k = cs.k;
  const data = new Uint16Array(count * k);
  if (count === 0) return { width: k, count, data };
  if (k === 0) return { width: 0, count, data };

  // A clause can only be decided once its last dimension is set, so check it exactly there;
  // a match prunes the whole subtree under the current prefix.
  const endingAt: Clause[][] = Array.from({ length: k }, () => []);
  for (const clause of cs.clauses) endingAt[clause[clause.length - 1]!.dim]!.push(clause);
  const levels = Int32Array.from(cs.levels);
  const cur = new Int32Array(k);
  const matched = (d: number): boolean => {
    const checks = endingAt[d]!;
    for (let c = 0; c < checks.length; c++) {
      const clause = checks[c]!;
      let all = true;
      for (let t = 0; t < clause.length && all; t++) {
        const term = clause[t]!;
        all = term.mask[cur[term.dim]!] === 1;
      }
      if (all) return true;
    }
    return false;
  };
  const last = k - 1;
  const lastLevels = levels[last]!;
  const lastChecked = endingAt[last]!.length > 0;
  let pos = 0;
  let d = 0;
  cur[0] = -1;
  while (d >= 0) {
    if (d === last) {
      // Innermost dimension in one tight loop: this is where all the rows are written.
      for (let v = 0; v < lastLevels; v++) {
        cur[last] = v;
        if (lastChecked && matched(last)) continue;
        for (let t = 0; t < k; t++) data[pos + t] = cur[t]!;
        pos += k;
      }
      d--;
      continue;
    }
    const v = ++cur[d]!;
    if (v >= levels[d]!) {
      d--;
      continue;
    }
    if (matched(d)) continue;
    d++;
    cur[d] = -1;
  }
  return { width: k, count, data };
}

export function flatToRows(flat: FlatDesign): number[][] {
  const { width, count, data } = flat;
  const rows: number[][] = new Array(count);
  for (let r = 0; r < count; r++) {
    // Preallocated to the exact width: push would over-allocate capacity on every row.
    const row: number[] = new Array(width);
    const base = r * width;
    for (let d = 0; d < width; d++) row[d] = data[base + d]!;
    rows[r] = row;
  }
  return rows;
}
