import { describe, expect, it } from 'vitest';
import {
  analyseDesign,
  type DesignSpace,
  generateDesign,
  smallestEstimableBalanced,
} from '../../../src/matrices/designs/index.ts';
import { createRng } from './helpers.ts';

const uniform = (k: number, s: number): number[] => new Array<number>(k).fill(s);
const space = (levels: number[]): DesignSpace => ({ levels, exclusions: [] });
const LIMIT = { maxVariants: 100_000 };

/**
 * Independent check, written without the library's X'X-from-counts: the dummy-coded model
 * matrix built row by row, its rank by Gaussian elimination on X itself.
 */
function dummyX(levels: number[], rows: number[][]): number[][] {
  return rows.map((r) => {
    const x = [1];
    levels.forEach((s, d) => {
      for (let a = 1; a < s; a++) x.push(r[d] === a ? 1 : 0);
    });
    return x;
  });
}

function rankOf(matrix: number[][]): number {
  const m = matrix.map((r) => r.slice());
  const cols = m[0]?.length ?? 0;
  let rank = 0;
  for (let c = 0; c < cols && rank < m.length; c++) {
    let best = rank;
    for (let r = rank; r < m.length; r++)
      if (Math.abs(m[r]![c]!) > Math.abs(m[best]![c]!)) best = r;
    if (Math.abs(m[best]![c]!) < 1e-9) continue;
    [m[rank], m[best]] = [m[best]!, m[rank]!];
    for (let r = 0; r < m.length; r++) {
      if (r === rank) continue;
      const f = m[r]![c]! / m[rank]![c]!;
      for (let j = c; j < cols; j++) m[r]![j]! -= f * m[rank]![j]!;
    }
    rank++;
  }
  return rank;
}

function determinant(a: number[][]): number {
  const m = a.map((r) => r.slice());
  let det = 1;
  for (let c = 0; c < m.length; c++) {
    let best = c;
    for (let r = c; r < m.length; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[best]![c]!)) best = r;
    if (m[best]![c] === 0) return 0;
    if (best !== c) {
      [m[c], m[best]] = [m[best]!, m[c]!];
      det = -det;
    }
    det *= m[c]![c]!;
    for (let r = c + 1; r < m.length; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let j = c; j < m.length; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return det;
}

describe('main-effects estimability', () => {
  it('flags pairwise 3^13 (15 rows for 27 parameters): all 26 level effects aliased', () => {
    const s = space(uniform(13, 3));
    const rows = generateDesign(s, { type: 'pairwise' }, LIMIT).combinations;
    expect(rows).toHaveLength(15);
    const me = analyseDesign(s, rows).mainEffects;
    expect(me).toMatchObject({ parameters: 27, rank: 15, estimable: false, d_efficiency: 0 });
    expect(rankOf(dummyX(s.levels, rows))).toBe(15);
    expect(me.aliased).toHaveLength(26);
    expect(me.level_variance.flat().filter((v) => v === null)).toHaveLength(26);
  });

  it('flags pairwise 4^15 3^17 2^29: 108 of 108 level effects aliased', () => {
    const s = space([...uniform(15, 4), ...uniform(17, 3), ...uniform(29, 2)]);
    const rows = generateDesign(s, { type: 'pairwise' }, LIMIT).combinations;
    const me = analyseDesign(s, rows).mainEffects;
    expect(me.parameters).toBe(109);
    expect(me.estimable).toBe(false);
    expect(me.rank).toBe(rankOf(dummyX(s.levels, rows)));
    expect(me.aliased).toHaveLength(108);
  });

  it('names the smallest balanced design that estimates them, checked independently', () => {
    for (const levels of [
      uniform(13, 3),
      [...uniform(15, 4), ...uniform(17, 3), ...uniform(29, 2)],
    ]) {
      const s = space(levels);
      const p = 1 + levels.reduce((a, x) => a + x - 1, 0);
      const suggestion = smallestEstimableBalanced(s);
      expect(suggestion).not.toBeNull();
      expect(suggestion!.n).toBeGreaterThanOrEqual(p);
      const rows = generateDesign(s, suggestion!, LIMIT).combinations;
      expect(rows).toHaveLength(suggestion!.n);
      expect(rankOf(dummyX(levels, rows))).toBe(p);
    }
    // 3^13 has an exact OA of 27 rows: the minimum itself.
    expect(smallestEstimableBalanced(space(uniform(13, 3)))).toEqual({ type: 'balanced', n: 27 });
  });

  it('suggests nothing when a level occurs in no allowed combination', () => {
    const s: DesignSpace = { levels: [2, 3], exclusions: [[{ dim: 1, levels: [2] }]] };
    expect(smallestEstimableBalanced(s)).toBeNull();
  });

  it('gives orthogonal arrays orthogonal = true and D-efficiency 100', () => {
    for (const [levels, n] of [
      [uniform(4, 3), 9],
      [uniform(7, 2), 8],
      [uniform(5, 4), 16],
      [uniform(11, 2), 12],
    ] as const) {
      const s = space([...levels]);
      const rows = generateDesign(s, { type: 'balanced', n }, LIMIT).combinations;
      const me = analyseDesign(s, rows).mainEffects;
      expect(me.orthogonal).toBe(true);
      expect(me.estimable).toBe(true);
      expect(me.d_efficiency).toBeCloseTo(100, 9);
    }
    const full = generateDesign(space([2, 3, 4]), { type: 'full' }, LIMIT).combinations;
    expect(analyseDesign(space([2, 3, 4]), full).mainEffects).toMatchObject({ orthogonal: true });
  });

  it('names exactly the aliased levels of a partly confounded design', () => {
    // tone=witty only ever appears with city=rome and vice versa: those two columns are equal;
    // tone=serious against playful is still estimable.
    const s = space([3, 2]);
    const rows = [
      [0, 0],
      [1, 0],
      [0, 0],
      [2, 1],
      [2, 1],
    ];
    const me = analyseDesign(s, rows).mainEffects;
    expect(me).toMatchObject({ parameters: 4, rank: 3, estimable: false, orthogonal: false });
    expect(me.aliased).toEqual([
      { dim: 0, level: 2 },
      { dim: 1, level: 1 },
    ]);
    // serious (1 variant) against playful (2 variants), city balanced out: 1/1 + 1/2.
    expect(me.level_variance[0]![1]).toBeCloseTo(1.5, 12);
    expect(me.level_variance[0]![2]).toBeNull();
  });

  it('computes D-efficiency as an independent orthogonal coding does', () => {
    // ±1 for two levels, orthogonal polynomials for three, scaled so Σ_a P² = s.
    const code2 = [[1], [-1]];
    const r = Math.sqrt(3 / 2);
    const code3 = [
      [-r, 1 / Math.sqrt(2)],
      [0, -2 / Math.sqrt(2)],
      [r, 1 / Math.sqrt(2)],
    ];
    const levels = [2, 2, 3, 3, 3];
    const rng = createRng(5);
    for (let t = 0; t < 5; t++) {
      const rows = Array.from({ length: 14 + t }, () => levels.map((s) => rng.int(s)));
      const x = rows.map((row) => [
        1,
        ...row.flatMap((v, d) => (levels[d] === 2 ? code2[v]! : code3[v]!)),
      ]);
      const p = x[0]!.length;
      const xtx = Array.from({ length: p }, (_, i) =>
        Array.from({ length: p }, (_, j) => x.reduce((acc, row) => acc + row[i]! * row[j]!, 0)),
      );
      const det = determinant(xtx);
      const expected = det > 1e-9 ? (100 * det ** (1 / p)) / rows.length : 0;
      expect(analyseDesign(space(levels), rows).mainEffects.d_efficiency).toBeCloseTo(expected, 8);
    }
  });

  it('gives a two-group design the variance 1/g + 1/g', () => {
    const rows = [[0], [0], [0], [1], [1], [1]];
    const me = analyseDesign(space([2]), rows).mainEffects;
    expect(me.level_variance[0]![1]).toBeCloseTo(2 / 3, 12);
    expect(me.orthogonal).toBe(true);
  });
});
