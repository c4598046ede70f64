import type { PairIndex } from './pairs.ts';
import { type Rng, shuffleInPlace } from './rng.ts';
import { type CompiledSpace, hasCompletion, mayStrand, rowAllowedAfterChange } from './space.ts';

/** Everything the covering-array searches need about one space. */
export interface CoverContext {
  readonly cs: CompiledSpace;
  readonly pi: PairIndex;
  /** 1 for every pair some allowed combination contains: exactly the pairs to cover. */
  readonly allowed: Uint8Array;
}

/**
 * AETG-style greedy: each new row is the best of `candidates` randomised rows, each seeded with
 * an uncovered pair (so every row covers at least one new pair and the loop terminates, even
 * under exclusions) and completed dimension by dimension with the level covering the most
 * uncovered pairs against the levels already placed. Ties go to the level with more uncovered
 * pairs overall, then to the RNG. With exclusions, a level is only taken when the partial row
 * still has an allowed completion, so every row is allowed.
 */
export function greedyCover(ctx: CoverContext, rng: Rng, candidates: number): Int32Array[] {
  const { cs, pi } = ctx;
  const { k, levels, levelOffset: off, base, mulA, mulB } = pi;
  const unc = ctx.allowed.slice();
  let remaining = 0;
  const lvUnc = new Int32Array(pi.totalLevels);
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const o = i * k + j;
      for (let a = 0; a < levels[i]!; a++) {
        for (let b = 0; b < levels[j]!; b++) {
          if (unc[base[o]! + a * mulA[o]! + b]! === 0) continue;
          remaining++;
          lvUnc[off[i]! + a]!++;
          lvUnc[off[j]! + b]!++;
        }
      }
    }
  }
  const rows: Int32Array[] = [];
  const row = new Int32Array(k);
  const best = new Int32Array(k);
  const assigned = new Int32Array(k);
  const order: number[] = [];
  let maxLevels = 0;
  for (let d = 0; d < k; d++) maxLevels = Math.max(maxLevels, levels[d]!);
  const gain = new Int32Array(maxLevels);
  const ranked: number[] = [];

  while (remaining > 0) {
    let bestScore = -1;
    for (let t = 0; t < candidates; t++) {
      // Seed level: most uncovered pairs, random among ties.
      let si = -1;
      let sa = -1;
      let top = 0;
      let ties = 0;
      for (let i = 0; i < k; i++) {
        for (let a = 0; a < levels[i]!; a++) {
          const u = lvUnc[off[i]! + a]!;
          if (u > top) [si, sa, top, ties] = [i, a, u, 1];
          else if (u === top && u > 0 && rng.int(++ties) === 0) [si, sa] = [i, a];
        }
      }
      let sj = -1;
      let sb = -1;
      top = -1;
      ties = 0;
      for (let j = 0; j < k; j++) {
        if (j === si) continue;
        const o = si * k + j;
        for (let b = 0; b < levels[j]!; b++) {
          if (unc[base[o]! + sa * mulA[o]! + b * mulB[o]!] !== 1) continue;
          const u = lvUnc[off[j]! + b]!;
          if (u > top) [sj, sb, top, ties] = [j, b, u, 1];
          else if (u === top && rng.int(++ties) === 0) [sj, sb] = [j, b];
        }
      }
      row.fill(-1);
      row[si] = sa;
      row[sj] = sb;
      assigned[0] = si;
      assigned[1] = sj;
      let nAssigned = 2;
      let score = 1;
      order.length = 0;
      for (let d = 0; d < k; d++) if (d !== si && d !== sj) order.push(d);
      shuffleInPlace(order, rng);
      for (const d of order) {
        const s = levels[d]!;
        gain.fill(0, 0, s);
        for (let x = 0; x < nAssigned; x++) {
          const c = assigned[x]!;
          const o = d * k + c;
          const start = base[o]! + row[c]! * mulB[o]!;
          const step = mulA[o]!;
          for (let v = 0; v < s; v++) gain[v]! += unc[start + v * step]!;
        }
        let pick = -1;
        let ties = 0;
        for (let v = 0; v < s; v++) {
          if (pick < 0 || gain[v]! > gain[pick]!) [pick, ties] = [v, 1];
          else if (gain[v] === gain[pick]) {
            const dv = lvUnc[off[d]! + v]! - lvUnc[off[d]! + pick]!;
            if (dv > 0) [pick, ties] = [v, 1];
            else if (dv === 0 && rng.int(++ties) === 0) pick = v;
          }
        }
        row[d] = pick;
        if (mayStrand(cs, row, d) && !hasCompletion(cs, row)) {
          // Rare: the favourite level strands the row. Walk the rest in preference order.
          ranked.length = 0;
          for (let v = 0; v < s; v++) if (v !== pick) ranked.push(v);
          shuffleInPlace(ranked, rng);
          ranked.sort((x, y) => gain[y]! - gain[x]! || lvUnc[off[d]! + y]! - lvUnc[off[d]! + x]!);
          pick = -1;
          for (const v of ranked) {
            row[d] = v;
            if (hasCompletion(cs, row)) {
              pick = v;
              break;
            }
          }
        }
        row[d] = pick;
        score += gain[pick]!;
        assigned[nAssigned++] = d;
      }
      if (score > bestScore) {
        bestScore = score;
        best.set(row);
      }
    }
    rows.push(best.slice());
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        const p = base[i * k + j]! + best[i]! * mulA[i * k + j]! + best[j]!;
        if (unc[p] === 1) {
          unc[p] = 0;
          remaining--;
          lvUnc[off[i]! + best[i]!]!--;
          lvUnc[off[j]! + best[j]!]!--;
        }
      }
    }
  }
  return rows;
}

/** Drops rows whose every pair is also covered by another row (last rows first). */
export function dropRedundantRows(ctx: CoverContext, rows: Int32Array[]): Int32Array[] {
  const { pi } = ctx;
  const k = pi.k;
  const counts = new Int32Array(pi.size);
  const each = (row: Int32Array, fn: (p: number) => void): void => {
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        fn(pi.base[i * k + j]! + row[i]! * pi.mulA[i * k + j]! + row[j]!);
      }
    }
  };
  for (const row of rows) each(row, (p) => counts[p]!++);
  const kept: Int32Array[] = [];
  for (let r = rows.length - 1; r >= 0; r--) {
    const row = rows[r]!;
    let needed = k < 2;
    each(row, (p) => {
      if (counts[p] === 1) needed = true;
    });
    if (needed) kept.push(row);
    else each(row, (p) => counts[p]!--);
  }
  return kept.reverse();
}

interface ShrinkOptions {
  /** No covering array can be smaller than this; stop there. */
  lowerBound: number;
  /** Total local-search steps over all rounds. */
  maxSteps: number;
  /** Steps one round may spend repairing the array after a row is removed. */
  roundSteps: number;
  /** Steps a changed cell stays tabu. */
  tenure: number;
}

/**
 * Post-optimisation that turns a complete covering array into a smaller one: drop the row with
 * the fewest uniquely covered pairs, then tabu-search single-cell changes (Nurmela-style: pick
 * an uncovered pair at random, consider every row where one of its two levels is already in
 * place, take the change that leaves the fewest uncovered pairs) until everything is covered
 * again. Repeats until a round fails; returns the last complete array. Rows stay allowed.
 */
export function shrinkCover(
  ctx: CoverContext,
  start: Int32Array[],
  rng: Rng,
  opts: ShrinkOptions,
): Int32Array[] {
  const { cs, pi } = ctx;
  const { k, levels, base, mulA, mulB } = pi;
  const constrained = cs.clauses.length > 0;
  const P = pi.size;
  const pairI = new Uint16Array(P);
  const pairJ = new Uint16Array(P);
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const from = base[i * k + j]!;
      pairI.fill(i, from, from + levels[i]! * levels[j]!);
      pairJ.fill(j, from, from + levels[i]! * levels[j]!);
    }
  }
  let rows = start.map((r) => r.slice());
  const counts = new Int32Array(P);
  const unc = new Int32Array(P);
  const pos = new Int32Array(P).fill(-1);
  let nUnc = 0;
  const inc = (p: number): void => {
    if (counts[p]!++ === 0 && pos[p]! >= 0) {
      const last = unc[--nUnc]!;
      unc[pos[p]!] = last;
      pos[last] = pos[p]!;
      pos[p] = -1;
    }
  };
  const dec = (p: number): void => {
    if (--counts[p]! === 0) {
      unc[nUnc] = p;
      pos[p] = nUnc++;
    }
  };
  const pidx = (c: number, v: number, c2: number, v2: number): number => {
    const o = c * k + c2;
    return base[o]! + v * mulA[o]! + v2 * mulB[o]!;
  };
  for (const row of rows) {
    for (let i = 0; i < k; i++)
      for (let j = i + 1; j < k; j++) counts[pidx(i, row[i]!, j, row[j]!)]!++;
  }
  const delta = (row: Int32Array, c: number, v: number): number => {
    const old = row[c]!;
    let d = 0;
    for (let c2 = 0; c2 < k; c2++) {
      if (c2 === c) continue;
      const o = c * k + c2;
      const tail = base[o]! + row[c2]! * mulB[o]!;
      if (counts[tail + old * mulA[o]!] === 1) d++;
      if (counts[tail + v * mulA[o]!] === 0) d--;
    }
    return d;
  };
  const setCell = (row: Int32Array, c: number, v: number): void => {
    const old = row[c]!;
    for (let c2 = 0; c2 < k; c2++) {
      if (c2 === c) continue;
      const o = c * k + c2;
      const tail = base[o]! + row[c2]! * mulB[o]!;
      inc(tail + v * mulA[o]!);
      dec(tail + old * mulA[o]!);
    }
    row[c] = v;
  };
  const allowedWith = (row: Int32Array, c: number, v: number): boolean => {
    if (!constrained) return true;
    const old = row[c]!;
    row[c] = v;
    const ok = rowAllowedAfterChange(cs, row, c);
    row[c] = old;
    return ok;
  };

  let steps = 0;
  let tabu = new Int32Array(0);
  while (rows.length > opts.lowerBound && steps < opts.maxSteps) {
    const snapshot = rows.map((r) => r.slice());
    let drop = 0;
    let fewest = Number.POSITIVE_INFINITY;
    rows.forEach((row, r) => {
      let unique = 0;
      for (let i = 0; i < k; i++) {
        for (let j = i + 1; j < k; j++) if (counts[pidx(i, row[i]!, j, row[j]!)] === 1) unique++;
      }
      if (unique < fewest) [drop, fewest] = [r, unique];
    });
    const dropped = rows[drop]!;
    for (let i = 0; i < k; i++)
      for (let j = i + 1; j < k; j++) dec(pidx(i, dropped[i]!, j, dropped[j]!));
    rows[drop] = rows[rows.length - 1]!;
    rows.pop();
    const N = rows.length;
    tabu = new Int32Array(N * k);
    let bestSeen = nUnc;
    for (let step = 1; nUnc > 0 && step <= opts.roundSteps && steps < opts.maxSteps; step++) {
      steps++;
      const p = unc[rng.int(nUnc)]!;
      const i = pairI[p]!;
      const j = pairJ[p]!;
      const rel = p - base[i * k + j]!;
      const a = Math.floor(rel / levels[j]!);
      const b = rel - a * levels[j]!;
      let bestRow = -1;
      let bestCol = -1;
      let bestVal = 0;
      let bestDelta = Number.POSITIVE_INFINITY;
      let ties = 0;
      for (let r = 0; r < N; r++) {
        const row = rows[r]!;
        let c: number;
        let v: number;
        if (row[i] === a) [c, v] = [j, b];
        else if (row[j] === b) [c, v] = [i, a];
        else continue;
        const d = delta(row, c, v);
        if (d > bestDelta) continue;
        if (tabu[r * k + c]! >= step && nUnc + d >= bestSeen) continue;
        if (!allowedWith(row, c, v)) continue;
        if (d < bestDelta) [bestDelta, ties] = [d, 1];
        else if (rng.int(++ties) !== 0) continue;
        [bestRow, bestCol, bestVal] = [r, c, v];
      }
      if (bestRow < 0) {
        // Neither level is in place anywhere usable: plant the whole pair in a random row.
        const r = rng.int(N);
        const row = rows[r]!;
        const [oi, oj] = [row[i]!, row[j]!];
        row[i] = a;
        row[j] = b;
        const ok =
          !constrained || (rowAllowedAfterChange(cs, row, i) && rowAllowedAfterChange(cs, row, j));
        row[i] = oi;
        row[j] = oj;
        if (!ok) continue;
        setCell(row, i, a);
        setCell(row, j, b);
        tabu[r * k + i] = step + opts.tenure;
        tabu[r * k + j] = step + opts.tenure;
      } else {
        setCell(rows[bestRow]!, bestCol, bestVal);
        tabu[bestRow * k + bestCol] = step + opts.tenure;
      }
      if (nUnc < bestSeen) bestSeen = nUnc;
    }
    if (nUnc > 0) {
      rows = snapshot;
      break;
    }
  }
  return rows;
}
