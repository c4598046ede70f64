/**
 * The preview with estimability and power on a 10^6-cell matrix (six dimensions of ten levels):
 * POST /matrices/:id/preview through the real app, per design, best of 3 (target: under 1 s).
 * The analysis alone (analyseDesign + powerAnalysis) is printed against a floor measured in the
 * same run: one bare typed-array pass counting the same rows' level pairs, the O(n·k²) work no
 * main-effects analysis can skip. `node bench/run.ts preview`
 */
import { analyseDesign, generateDesign } from '../src/matrices/designs/index.ts';
import { powerAnalysis } from '../src/matrices/power.ts';
import { benchApp, ms } from './lib.ts';

const K = 6;
const S = 10;
const power = { baseline_ctr: 0.01, impressions_per_variant: 100_000 };

function best<T>(times: number, fn: () => T): { value: T; ms: number } {
  let out: { value: T; ms: number } | null = null;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    const value = fn();
    const took = performance.now() - start;
    if (!out || took < out.ms) out = { value, ms: took };
  }
  return out!;
}

/** The floor: pair counts of the rows by bare nested loops over a flat Int32Array. */
function countFloor(rows: number[][]): number {
  const n = rows.length;
  const flat = new Int32Array(n * K);
  for (let r = 0; r < n; r++) for (let d = 0; d < K; d++) flat[r * K + d] = rows[r]![d]!;
  const counts = new Int32Array(((K * (K - 1)) / 2) * S * S);
  for (let r = 0; r < n; r++) {
    let block = 0;
    for (let i = 0; i < K; i++)
      for (let j = i + 1; j < K; j++, block++)
        counts[block * S * S + flat[r * K + i]! * S + flat[r * K + j]!]!++;
  }
  return counts[0]!;
}

export async function main() {
  const b = await benchApp({ MAX_VARIANTS_PER_RUN: '1000000' });
  try {
    const dims = Array.from({ length: K }, (_, d) => `d${d}`);
    const inject = (url: string, payload: object) =>
      b.app.inject({ method: 'POST', url, headers: { authorization: b.auth }, payload });
    const campaign = (
      await inject('/v1/campaigns', {
        name: 'bench',
        brief: { product: 'Fizz', key_message: 'Cold' },
        prompt_template: `Ad: ${dims.map((d) => `{{${d}}}`).join(', ')}`,
        video: { provider: 'local', seconds: 4, size: '720x1280' },
      })
    ).json();
    const matrix = await inject(`/v1/campaigns/${campaign.id}/matrices`, {
      dimensions: dims.map((key) => ({
        key,
        levels: Array.from({ length: S }, (_, i) => ({ key: `${key}l${i}` })),
      })),
    });
    if (matrix.statusCode !== 201) throw new Error(matrix.body);
    const id = matrix.json().id as string;
    console.log(
      `matrix ${S}^${K} = ${(S ** K).toLocaleString('en')} cells; power ${JSON.stringify(power)}`,
    );

    const designs: [string, object][] = [
      ['balanced (default n)', { type: 'balanced' }],
      ['pairwise', { type: 'pairwise' }],
      ['sample n=10,000', { type: 'sample', n: 10_000 }],
      ['full (10^6 rows)', { type: 'full' }],
    ];
    const space = { levels: new Array<number>(K).fill(S), exclusions: [] };
    const dimensions = dims.map((key) => ({
      key,
      levels: Array.from({ length: S }, (_, i) => ({ key: `${key}l${i}` })),
    }));
    for (const [name, design] of designs) {
      let slowest = 0;
      let fastest = Number.POSITIVE_INFINITY;
      let body: {
        variant_count: number;
        design_stats: Record<string, unknown>;
        power: { mde: Record<string, number> };
      } | null = null;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        const res = await inject(`/v1/matrices/${id}/preview`, { design, power, sample_size: 5 });
        const took = performance.now() - start;
        if (res.statusCode !== 200) throw new Error(res.body);
        body = res.json();
        slowest = Math.max(slowest, took);
        fastest = Math.min(fastest, took);
      }
      const rows = generateDesign(space, design as never, { maxVariants: 1_000_000 }).combinations;
      const analysis = best(3, () => {
        const { mainEffects } = analyseDesign(space, rows);
        return powerAnalysis({
          input: { ...power, confidence: 0.95, power: 0.8, variant_sd: 0.05, target_mde: 0.1 },
          dimensions,
          combinations: rows,
          mainEffects,
        });
      });
      const floor = best(3, () => countFloor(rows));
      const st = body!.design_stats;
      console.log(
        `  ${name.padEnd(22)} ${String(body!.variant_count).padStart(7)} variants  preview best ${ms(fastest)}, worst ${ms(slowest)} (target < 1000 ms)`,
      );
      console.log(
        `    analysis alone ${ms(analysis.ms)} vs floor (bare pair count) ${ms(floor.ms)}: ${(analysis.ms / Math.max(floor.ms, 0.01)).toFixed(1)}x` +
          `; estimable ${st.estimable}, D-eff ${st.d_efficiency}, orthogonal ${st.orthogonal}, max|corr| ${st.max_abs_correlation}, mde d0 ${((body!.power.mde.d0 ?? Number.NaN) * 100).toFixed(1)}%`,
      );
    }
  } finally {
    await b.close();
  }
}

if (import.meta.main) await main();
