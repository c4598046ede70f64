import type { PairIndex } from './pairs.ts';
import { createRng, type Rng, shuffleInPlace } from './rng.ts';
import { type CompiledSpace, rowAllowed, rowAllowedAfterChange } from './space.ts';
import type { FlatDesign } from './types.ts';

export interface BalanceProblem {
  readonly cs: CompiledSpace;
  readonly pi: PairIndex;
  readonly n: number;
  /** Max copies of one row: 1 unless n exceeds the allowed count. */
  readonly cap: number;
  /** Allowed levels / pairs (1 = occurs in some allowed combination). */
  readonly levelOk: Uint8Array;
  readonly pairOk: Uint8Array;
  /** Every allowed row, when the space is small enough to hold. */
  readonly pool: FlatDesign | null;
  /** Uniform allowed row. */
  readonly drawRow: (rng: Rng) => Int32Array;
}

/** Least Σc² for n items spread over m cells: as even as possible. */
function minSquares(n: number, m: number): number {
  if (m === 0) return 0;
  const q = Math.floor(n / m);
  const r = n - q * m;
  return m * q * q + r * (2 * q + 1);
}

/**
 * Balance search. Energy E = w·Σ(level count)² + Σ(pair count)²: for fixed n, minimising a sum
 * of squares is the same as minimising every count's squared deviation from its ideal, and it
 * automatically spreads counts over the cells exclusions leave open. w makes the level term
 * lexicographically first: moving a row between levels whose counts differ by one is free, real
 * imbalance is never accepted uphill. Moves: change one cell, swap two rows' levels in one
 * column (keeps level counts), and, for small spaces, replace a row by another allowed row.
 * Every accepted state keeps all rows allowed and no row repeated more than `cap` times
 * (checked with Zobrist hashes: a hash collision can only reject a legal move, never admit a
 * duplicate). Deterministic from the seed.
 */
export function anneal(pb: BalanceProblem, seed: number): Int32Array {
  const { cs, pi, n, cap } = pb;
  const { k, levels, levelOffset: off, base, mulA, mulB } = pi;
  // One unit of level imbalance must outweigh any pair change a single move can cause
  // (at most 2(k-1)(n+1)), so level balance is never traded for pair evenness.
  const w = 2 * k * (n + 1);
  const hashRng = createRng(seed, 77);
  const z1 = Uint32Array.from({ length: pi.totalLevels }, () => hashRng.u32());
  const z2 = Uint32Array.from({ length: pi.totalLevels }, () => hashRng.u32());
  const keyOf = (a: number, b: number): number => a * 0x200000 + (b & 0x1fffff);

  let lowerBound = 0;
  for (let i = 0; i < k; i++) {
    let m = 0;
    for (let a = 0; a < levels[i]!; a++) m += pb.levelOk[off[i]! + a]!;
    lowerBound += w * minSquares(n, m);
    for (let j = i + 1; j < k; j++) {
      let mp = 0;
      const from = base[i * k + j]!;
      for (let p = from; p < from + levels[i]! * levels[j]!; p++) mp += pb.pairOk[p]!;
      lowerBound += minSquares(n, mp);
    }
  }

  const R = new Int32Array(n * k);
  const lc = new Int32Array(pi.totalLevels);
  const pc = new Int32Array(pi.size);
  const h1 = new Uint32Array(n);
  const h2 = new Uint32Array(n);
  const keys = new Map<number, number>();
  const scratch = new Int32Array(k);
  let energy = 0;

  const bump = (key: number, by: number): void => {
    const next = (keys.get(key) ?? 0) + by;
    if (next === 0) keys.delete(key);
    else keys.set(key, next);
  };
  const full = (key: number): boolean => (keys.get(key) ?? 0) >= cap;
  /** Adds (sign 1) or removes (sign -1) row r's contributions; returns the energy change. */
  const account = (r: number, sign: 1 | -1): number => {
    let d = 0;
    const o = r * k;
    let a1 = 0;
    let a2 = 0;
    for (let i = 0; i < k; i++) {
      const li = off[i]! + R[o + i]!;
      a1 ^= z1[li]!;
      a2 ^= z2[li]!;
      d += w * (sign * 2 * lc[li]! + 1);
      lc[li]! += sign;
      for (let j = i + 1; j < k; j++) {
        const p = base[i * k + j]! + R[o + i]! * mulA[i * k + j]! + R[o + j]!;
        d += sign * 2 * pc[p]! + 1;
        pc[p]! += sign;
      }
    }
    h1[r] = a1 >>> 0;
    h2[r] = a2 >>> 0;
    bump(keyOf(h1[r]!, h2[r]!), sign);
    return d;
  };

  const init = (rng: Rng): void => {
    lc.fill(0);
    pc.fill(0);
    keys.clear();
    energy = 0;
    // Start from columns that are already level-balanced over the allowed levels.
    for (let d = 0; d < k; d++) {
      const ok: number[] = [];
      for (let a = 0; a < levels[d]!; a++) if (pb.levelOk[off[d]! + a] === 1) ok.push(a);
      shuffleInPlace(ok, rng);
      const column = Array.from({ length: n }, (_, r) => ok[r % ok.length]!);
      shuffleInPlace(column, rng);
      for (let r = 0; r < n; r++) R[r * k + d] = column[r]!;
    }
    for (let r = 0; r < n; r++) {
      const row = R.subarray(r * k, r * k + k);
      let tries = 0;
      while (!rowAllowed(cs, row) || full(rowKey(row))) {
        if (++tries > 200 && pb.pool) {
          row.set(firstFree(rng));
          break;
        }
        row.set(pb.drawRow(rng));
      }
      energy += account(r, 1);
    }
  };
  const rowKey = (row: Int32Array): number => {
    let a1 = 0;
    let a2 = 0;
    for (let d = 0; d < k; d++) {
      a1 ^= z1[off[d]! + row[d]!]!;
      a2 ^= z2[off[d]! + row[d]!]!;
    }
    return keyOf(a1 >>> 0, a2 >>> 0);
  };
  /** Pool scan from a random start; cap * allowed >= n guarantees a free row exists. */
  const firstFree = (rng: Rng): Int32Array => {
    const pool = pb.pool!;
    const start = rng.int(pool.count);
    for (let t = 0; t < pool.count; t++) {
      const i = (start + t) % pool.count;
      const row = Int32Array.from(pool.data.subarray(i * k, i * k + k));
      if (!full(rowKey(row))) return row;
    }
    return Int32Array.from(pool.data.subarray(start * k, start * k + k));
  };

  const cellDelta = (r: number, c: number, b: number): number => {
    const o = r * k;
    const a = R[o + c]!;
    let d = w * 2 * (lc[off[c]! + b]! - lc[off[c]! + a]! + 1);
    for (let c2 = 0; c2 < k; c2++) {
      if (c2 === c) continue;
      const x = c * k + c2;
      const tail = base[x]! + R[o + c2]! * mulB[x]!;
      d += 2 * (pc[tail + b * mulA[x]!]! - pc[tail + a * mulA[x]!]! + 1);
    }
    return d;
  };
  const applyCell = (r: number, c: number, b: number): void => {
    const o = r * k;
    const a = R[o + c]!;
    for (let c2 = 0; c2 < k; c2++) {
      if (c2 === c) continue;
      const x = c * k + c2;
      const tail = base[x]! + R[o + c2]! * mulB[x]!;
      pc[tail + a * mulA[x]!]!--;
      pc[tail + b * mulA[x]!]!++;
    }
    lc[off[c]! + a]!--;
    lc[off[c]! + b]!++;
    bump(keyOf(h1[r]!, h2[r]!), -1);
    h1[r] = (h1[r]! ^ z1[off[c]! + a]! ^ z1[off[c]! + b]!) >>> 0;
    h2[r] = (h2[r]! ^ z2[off[c]! + a]! ^ z2[off[c]! + b]!) >>> 0;
    bump(keyOf(h1[r]!, h2[r]!), 1);
    R[o + c] = b;
  };
  /** Whether row r may take level b in column c: stays allowed and under the copy cap. */
  const cellOk = (r: number, c: number, b: number): boolean => {
    const a = R[r * k + c]!;
    const key = keyOf(
      (h1[r]! ^ z1[off[c]! + a]! ^ z1[off[c]! + b]!) >>> 0,
      (h2[r]! ^ z2[off[c]! + a]! ^ z2[off[c]! + b]!) >>> 0,
    );
    if (full(key)) return false;
    if (cs.byDim[c]!.length === 0) return true;
    scratch.set(R.subarray(r * k, r * k + k));
    scratch[c] = b;
    return rowAllowedAfterChange(cs, scratch, c);
  };
  const swapDelta = (c: number, r1: number, r2: number): number => {
    const a = R[r1 * k + c]!;
    const b = R[r2 * k + c]!;
    let d = 0;
    for (let c2 = 0; c2 < k; c2++) {
      const v1 = R[r1 * k + c2]!;
      const v2 = R[r2 * k + c2]!;
      if (c2 === c || v1 === v2) continue;
      const x = c * k + c2;
      const t1 = base[x]! + v1 * mulB[x]!;
      const t2 = base[x]! + v2 * mulB[x]!;
      const m = mulA[x]!;
      d += 2 * (pc[t1 + b * m]! - pc[t1 + a * m]! + pc[t2 + a * m]! - pc[t2 + b * m]! + 2);
    }
    return d;
  };
  /** Swap as two cell changes; reverted if either row would break a rule. */
  const trySwap = (c: number, r1: number, r2: number): boolean => {
    const a = R[r1 * k + c]!;
    const b = R[r2 * k + c]!;
    if (!cellOk(r1, c, b)) return false;
    applyCell(r1, c, b);
    if (cellOk(r2, c, a)) {
      applyCell(r2, c, a);
      return true;
    }
    applyCell(r1, c, a);
    return false;
  };

  // Step counts, not wall-clock budgets, so results depend only on the seed. Long anneals beat
  // many short ones here: 2000 moves per cell finds L18 (3^7 in 18 runs) for every seed tried.
  // Restarts share 2e7 cell-steps (was 6e7): on six large spaces x two seeds (10^6 in 100,
  // 5^8 in 50, 4^15 in 48, 4^3 3^3 2^4 in 24, ...) the extra restarts moved the final
  // D-efficiency by -0.3 to +0.5 points and pair coverage by under 0.5%, and cost 2.3x the time:
  // the 10^6 preview spent 1.2 s here. Small spaces keep all 8 restarts.
  const iterations = Math.max(50_000, Math.min(1_000_000, 2000 * n * k));
  const restarts = Math.max(1, Math.min(8, Math.floor(2e7 / (iterations * k))));
  let best: Int32Array | null = null;
  let bestEnergy = Number.POSITIVE_INFINITY;
  for (let run = 0; run < restarts && bestEnergy > lowerBound; run++) {
    const rng = createRng(seed, run + 1);
    init(rng);
    const t0 = 2;
    const t1 = 0.02;
    let temp = t0;
    for (let it = 0; it < iterations && energy > lowerBound; it++) {
      if ((it & 1023) === 0) temp = t0 * (t1 / t0) ** (it / iterations);
      const u = rng.next();
      if (pb.pool && u < 0.05) {
        const r = rng.int(n);
        const row = pb.drawRow(rng);
        const key = rowKey(row);
        if (full(key)) continue;
        const old = R.slice(r * k, r * k + k);
        let d = account(r, -1);
        R.set(row, r * k);
        d += account(r, 1);
        if (d > 0 && rng.next() >= Math.exp(-d / temp)) {
          account(r, -1);
          R.set(old, r * k);
          account(r, 1);
        } else energy += d;
      } else if (u < 0.55) {
        const c = rng.int(k);
        const r1 = rng.int(n);
        const r2 = rng.int(n);
        if (R[r1 * k + c] === R[r2 * k + c]) continue;
        const d = swapDelta(c, r1, r2);
        if (d > 0 && rng.next() >= Math.exp(-d / temp)) continue;
        if (trySwap(c, r1, r2)) energy += d;
      } else {
        const r = rng.int(n);
        const c = rng.int(k);
        const s = levels[c]!;
        if (s < 2) continue;
        let b = rng.int(s - 1);
        if (b >= R[r * k + c]!) b++;
        const d = cellDelta(r, c, b);
        if (d > 0 && rng.next() >= Math.exp(-d / temp)) continue;
        if (cellOk(r, c, b)) {
          applyCell(r, c, b);
          energy += d;
        }
      }
    }
    repairLevels();
    if (energy < bestEnergy) {
      bestEnergy = energy;
      best = R.slice();
    }
  }
  return best!;

  /**
   * Annealing leaves level counts within ±1 in practice; this makes it a guarantee wherever a
   * single allowed cell change can move a row from an over-used level to an under-used one.
   */
  function repairLevels(): void {
    for (let c = 0; c < k; c++) {
      const o = off[c]!;
      for (;;) {
        let max = -1;
        let min = Number.POSITIVE_INFINITY;
        for (let a = 0; a < levels[c]!; a++) {
          if (pb.levelOk[o + a] !== 1) continue;
          max = Math.max(max, lc[o + a]!);
          min = Math.min(min, lc[o + a]!);
        }
        if (max - min <= 1) break;
        let pick = -1;
        let to = -1;
        let pickDelta = Number.POSITIVE_INFINITY;
        for (let r = 0; r < n; r++) {
          const a = R[r * k + c]!;
          for (let b = 0; b < levels[c]!; b++) {
            if (pb.levelOk[o + b] !== 1 || lc[o + a]! - lc[o + b]! < 2) continue;
            if (lc[o + a] !== max && lc[o + b] !== min) continue;
            if (!cellOk(r, c, b)) continue;
            const d = cellDelta(r, c, b);
            if (d < pickDelta) [pick, to, pickDelta] = [r, b, d];
          }
        }
        // Each applied move lowers Σ(level count)², so this terminates.
        if (pick < 0) break;
        applyCell(pick, c, to);
        energy += pickDelta;
      }
    }
  }
}
