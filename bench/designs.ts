/**
 * Experiment design benchmarks. Prints, never asserts: `node bench/designs.ts`.
 * (1) full-factorial expansion speed/memory against a bare typed-array loop,
 * (2) pairwise sizes against covertable, (3) balanced-design quality.
 */
import * as covertable from 'covertable';
import {
  analyseDesign,
  type DesignSpace,
  designStats,
  generateDesign,
  generateFullFlat,
  maxAbsCorrelation,
} from '../src/matrices/designs/index.ts';

type Make = (factors: number[][]) => unknown[];

function covertableMake(): Make {
  // CommonJS package: Node's ESM loader exposes it only as the default export.
  const mod = covertable as unknown as { make?: Make; default?: Make | { make: Make } };
  if (typeof mod.make === 'function') return mod.make;
  const d = mod.default!;
  return typeof d === 'function' ? d : d.make;
}

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
const ms = (t: number): string => `${t.toFixed(1)} ms`;
const uniform = (k: number, s: number): number[] => new Array<number>(k).fill(s);

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

/** The floor: the same 100,000 x 4 Uint16Array filled by four bare nested loops. */
function bareLoop(levels: readonly [number, number, number, number]): Uint16Array {
  const [a, b, c, d] = levels;
  const out = new Uint16Array(a * b * c * d * 4);
  let p = 0;
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      for (let k = 0; k < c; k++) {
        for (let l = 0; l < d; l++) {
          out[p++] = i;
          out[p++] = j;
          out[p++] = k;
          out[p++] = l;
        }
      }
    }
  }
  return out;
}

function benchFull(): void {
  console.log('\n(1) full factorial 10x10x20x50 = 100,000 combinations');
  const levels = [10, 10, 20, 50] as const;
  const space: DesignSpace = { levels: [...levels], exclusions: [] };
  const opts = { maxVariants: 100_000 };
  const before = process.memoryUsage();
  const rows = timed(() => generateDesign(space, { type: 'full' }, opts).combinations);
  const after = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    `  rows (number[][]), first run: ${ms(rows.ms)}; rss ${mb(before.rss)} -> ${mb(after.rss)} ` +
      `(+${mb(after.rss - before.rss)}), heapUsed ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} ` +
      `(+${mb(after.heapUsed - before.heapUsed)}), ${rows.value.length} rows`,
  );
  console.log(`  process peak rss after that first run (resourceUsage.maxRSS): ${mb(peak)}`);
  const best = (fn: () => unknown): number => {
    let min = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 7; r++) min = Math.min(min, timed(fn).ms);
    return min;
  };
  const rowsBest = best(() => generateDesign(space, { type: 'full' }, opts));
  const flatBest = best(() => generateFullFlat(space, opts));
  const floorBest = best(() => bareLoop(levels));
  const flat = generateFullFlat(space, opts);
  console.log(`  rows (number[][]), best of 7: ${ms(rowsBest)}`);
  console.log(`  flat (Uint16Array, ${mb(flat.data.byteLength)}), best of 7: ${ms(flatBest)}`);
  console.log(`  floor (bare nested loop, same Uint16Array), best of 7: ${ms(floorBest)}`);
  console.log(
    `  ratio flat/floor: ${(flatBest / floorBest).toFixed(2)}x; rows/floor: ${(rowsBest / floorBest).toFixed(2)}x`,
  );
  console.log(
    `  process peak rss after the 21 timing runs (garbage not yet collected): ` +
      `${mb(process.resourceUsage().maxRSS * 1024)}`,
  );
}

function benchPairwise(): void {
  console.log('\n(2) pairwise rows: ours vs covertable 2.5 (default options)');
  const make = covertableMake();
  const cases: [string, number[]][] = [
    ['3^4', uniform(4, 3)],
    ['3^13', uniform(13, 3)],
    ['4^15 3^17 2^29', [...uniform(15, 4), ...uniform(17, 3), ...uniform(29, 2)]],
    ['10^20', uniform(20, 10)],
  ];
  for (const [name, levels] of cases) {
    const space = { levels, exclusions: [] };
    const ours = timed(() => generateDesign(space, { type: 'pairwise' }, { maxVariants: 1e6 }));
    const coverage = designStats(space, ours.value.combinations).pair_coverage;
    const factors = levels.map((s) => Array.from({ length: s }, (_, i) => i));
    const theirs = timed(() => make(factors));
    console.log(
      `  ${name.padEnd(16)} ours ${String(ours.value.combinations.length).padStart(4)} rows in ` +
        `${ms(ours.ms).padStart(10)} (coverage ${coverage})   covertable ` +
        `${String(theirs.value.length).padStart(4)} rows in ${ms(theirs.ms).padStart(10)}`,
    );
  }
}

function benchBalanced(): void {
  console.log(
    '\n(3) balanced designs: max |correlation| between main-effect columns, level balance, D-efficiency',
  );
  const cases: [string, DesignSpace, number | undefined][] = [
    ['3^4, n=9', { levels: uniform(4, 3), exclusions: [] }, 9],
    ['2^7, n=8', { levels: uniform(7, 2), exclusions: [] }, 8],
    ['4^5, n=16', { levels: uniform(5, 4), exclusions: [] }, 16],
    // Extra: no algebraic construction applies, the annealer works alone.
    ['2^11, n=12 (anneal)', { levels: uniform(11, 2), exclusions: [] }, 12],
    ['2 3^7, n=18 (anneal)', { levels: [2, ...uniform(7, 3)], exclusions: [] }, 18],
    ['2 3 4, default n', { levels: [2, 3, 4], exclusions: [] }, undefined],
    [
      '3^4 minus (0,0), n=9',
      {
        levels: uniform(4, 3),
        exclusions: [
          [
            { dim: 0, levels: [0] },
            { dim: 1, levels: [0] },
          ],
        ],
      },
      9,
    ],
    ['10^20, default n', { levels: uniform(20, 10), exclusions: [] }, undefined],
  ];
  for (const [name, space, n] of cases) {
    const run = timed(() => generateDesign(space, { type: 'balanced', n }, { maxVariants: 1e6 }));
    const rows = run.value.combinations;
    const stats = designStats(space, rows);
    const corr = maxAbsCorrelation(space.levels, rows);
    const me = analyseDesign(space, rows).mainEffects;
    console.log(
      `  ${name.padEnd(24)} n=${String(rows.length).padStart(3)}  max|corr| ${corr.toFixed(4)}  ` +
        `level_balance ${stats.level_balance.toFixed(4)}  pair_coverage ${stats.pair_coverage.toFixed(4)}  ` +
        `D-eff ${me.d_efficiency.toFixed(2)}${me.orthogonal ? ' (OA)' : ''}  ${ms(run.ms)}`,
    );
  }
}

export function main(): void {
  console.log(`node ${process.version}`);
  benchFull();
  benchPairwise();
  benchBalanced();
}

if (import.meta.main) main();
