/**
 * Expanding and rendering a 100,000-combination full factorial (10 x 10 x 20 x 50): time and
 * peak memory of expansion + prompt rendering (+ variant keys, as a run computes them),
 * against the floor of the expansion alone, in the same run. `node bench/prompts.ts`
 */
import { generateFullFlat } from '../src/matrices/designs/index.ts';
import type { NormalizedMatrix } from '../src/matrices/parse/index.ts';
import { toDesignSpace } from '../src/matrices/parse/index.ts';
import { compileTemplate, createRenderer, variantKey } from '../src/prompts/index.ts';
import { mb, ms } from './format.ts';

const sizes = [10, 10, 20, 50];
const keys = ['tone', 'setting', 'city', 'partner'];
const matrix: NormalizedMatrix = {
  dimensions: keys.map((key, d) => ({
    key,
    label: key,
    levels: Array.from({ length: sizes[d]! }, (_, i) => ({
      key: `${key}${i}`,
      label: `${key} level ${i}`,
    })),
  })),
  constraints: [],
};
const brief = {
  product: 'Fizz sparkling water',
  key_message: 'Ice-cold refreshment',
  avoid: ['alcohol'],
};
const video = { provider: 'local', model: 'card-v1', seconds: 4, size: '720x1280' };

function best<T>(runs: number, fn: () => T): { value: T; ms: number } {
  let fastest = Number.POSITIVE_INFINITY;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = fn();
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return { value, ms: fastest };
}

export function main() {
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const space = toDesignSpace(matrix);
  const compiled = compileTemplate(
    'A {{tone}} ad for {{brief.product}} in {{setting}}, {{city}}, with {{partner}}',
    { dimensions: keys },
  );
  if (!compiled.ok) throw new Error('template');
  const bound = createRenderer(compiled.template, { dimensions: matrix.dimensions, brief });
  if (!bound.ok) throw new Error('renderer');
  const renderer = bound.renderer;

  // Memory on one cold pass first: timed repetitions pile up garbage before V8 collects it.
  {
    const flat = generateFullFlat(space, { maxVariants: 100_000 });
    const prompts = new Array<string>(flat.count);
    for (let r = 0; r < flat.count; r++) {
      prompts[r] = renderer.render(flat.data, r * flat.width);
      if (r % 10_000 === 0) sample();
    }
    sample();
  }
  const onePassPeak = peak;
  const floor = best(5, () => generateFullFlat(space, { maxVariants: 100_000 }));
  const render = best(5, () => {
    const flat = generateFullFlat(space, { maxVariants: 100_000 });
    const prompts = new Array<string>(flat.count);
    for (let r = 0; r < flat.count; r++) prompts[r] = renderer.render(flat.data, r * flat.width);
    sample();
    return prompts;
  });
  const keyed = best(3, () => {
    const flat = generateFullFlat(space, { maxVariants: 100_000 });
    const out = new Array<string>(flat.count);
    for (let r = 0; r < flat.count; r++) {
      const offset = r * flat.width;
      out[r] = variantKey({
        campaignId: 'cmp_x',
        levels: renderer.levelsOf(flat.data, offset),
        prompt: renderer.render(flat.data, offset),
        video,
      });
    }
    sample();
    return out;
  });
  sample();
  console.log('expand + render, 10 x 10 x 20 x 50 = 100,000 combinations (best of 5)');
  console.log(`  expansion only  ${ms(floor.ms)} (the floor)`);
  console.log(
    `  + prompts       ${ms(render.ms)} = ${(render.ms / floor.ms).toFixed(1)}x the floor (target < 1 s)`,
  );
  console.log(`  + variant keys  ${ms(keyed.ms)} (what POST /runs computes)`);
  console.log(
    `  peak RSS        ${mb(onePassPeak)} for one pass of expansion + prompts (${mb(onePassPeak - rss0)} above start; target < 200 MB)`,
  );
  console.log(
    `                  ${mb(peak)} after all timed passes (their garbage not yet collected)`,
  );
  console.log(`  sample          ${render.value[12_345]}`);
}

if (import.meta.main) main();
