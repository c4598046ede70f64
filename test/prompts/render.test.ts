import { describe, expect, it } from 'vitest';
import type { NormalizedDimension } from '../../src/matrices/parse/index.ts';
import {
  type Brief,
  compileTemplate,
  createRenderer,
  maxRenderedLength,
  type PromptRenderer,
  PromptTooLongError,
  type RendererOptions,
} from '../../src/prompts/index.ts';
import { brief, dim, level, rng } from './fixtures.ts';

const dimensions: NormalizedDimension[] = [
  dim('tone', [level('playful', 'Playful'), level('serious', 'Serious', 'calm and earnest')]),
  dim('setting', [level('beach', 'Beach'), level('rooftop', 'Rooftop', 'a rooftop at dusk')]),
  dim('city', [level('paris', 'Paris'), level('tokyo', 'Tokyo Bay')]),
];
const TEMPLATE = 'A {{tone}} ad for {{brief.product}} set in {{ setting }}, {{city}}.';

function renderer(
  template = TEMPLATE,
  opts: Partial<RendererOptions> = {},
  dims: readonly NormalizedDimension[] = opts.dimensions ?? dimensions,
): PromptRenderer {
  const compiled = compileTemplate(template, { dimensions: dims.map((d) => d.key) });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const bound = createRenderer(compiled.template, { dimensions: dims, brief, ...opts });
  if (!bound.ok) throw new Error(JSON.stringify(bound.errors));
  return bound.renderer;
}

function* allCombinations(counts: number[]): Generator<number[]> {
  const idx = counts.map(() => 0);
  while (true) {
    yield [...idx];
    let d = counts.length - 1;
    while (d >= 0 && ++idx[d]! === counts[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

describe('createRenderer / render', () => {
  it('uses a level prompt fragment when it has one, its label otherwise', () => {
    const r = renderer(TEMPLATE, { appendAvoid: false });
    expect(r.render([0, 0, 0])).toBe('A Playful ad for Fizz Cola set in Beach, Paris.');
    expect(r.render([1, 1, 1])).toBe(
      'A calm and earnest ad for Fizz Cola set in a rooftop at dusk, Tokyo Bay.',
    );
  });

  it('appends the avoid clause by default and counts it', () => {
    const r = renderer();
    const prompt = r.render([0, 0, 1]);
    expect(prompt).toBe(
      'A Playful ad for Fizz Cola set in Beach, Tokyo Bay.\nAvoid: alcohol, smoking.',
    );
    expect(r.lengthOf([0, 0, 1])).toBe(prompt.length);
  });

  it('renders every brief field, avoid as a comma list', () => {
    const full: Brief = {
      product: 'P',
      key_message: 'K',
      audience: 'A',
      call_to_action: 'C',
      brand_guidelines: 'G',
      avoid: ['x', 'y z'],
      style: 'S',
    };
    const template =
      '{{tone}}|{{brief.product}}|{{brief.key_message}}|{{brief.audience}}|{{brief.call_to_action}}|{{brief.brand_guidelines}}|{{brief.avoid}}|{{brief.style}}';
    const r = renderer(template, { brief: full, appendAvoid: false }, [dimensions[0]!]);
    expect(r.render([0])).toBe('Playful|P|K|A|C|G|x, y z|S');
  });

  it('refuses to bind when the template uses a brief field the brief leaves out', () => {
    const compiled = compileTemplate('{{tone}} for {{brief.style}} {{brief.avoid}}', {
      dimensions: ['tone'],
    });
    if (!compiled.ok) throw new Error('compile');
    const bound = createRenderer(compiled.template, {
      dimensions: [dimensions[0]!],
      brief: { product: 'P', key_message: 'K', avoid: [] },
    });
    expect(bound).toEqual({
      ok: false,
      errors: [
        {
          path: 'brief.style',
          message: 'prompt_template uses {{brief.style}} but the brief has no style',
        },
        {
          path: 'brief.avoid',
          message: 'prompt_template uses {{brief.avoid}} but the brief has no avoid',
        },
      ],
    });
  });

  it('refuses a matrix whose dimensions differ from the compiled ones', () => {
    const compiled = compileTemplate(TEMPLATE, { dimensions: ['tone', 'setting', 'city'] });
    if (!compiled.ok) throw new Error('compile');
    const swapped = [dimensions[0]!, dimensions[2]!, dimensions[1]!];
    const bound = createRenderer(compiled.template, { dimensions: swapped, brief });
    expect(bound.ok).toBe(false);
    expect(!bound.ok && bound.errors[0]?.path).toBe('dimensions');
  });

  it('repeats a placeholder used twice and counts it twice', () => {
    const r = renderer('{{city}}! {{tone}} {{setting}} in {{city}}', { appendAvoid: false });
    expect(r.render([0, 0, 1])).toBe('Tokyo Bay! Playful Beach in Tokyo Bay');
    expect(r.lengthOf([0, 0, 1])).toBe(37);
    expect(r.worstCase.length).toBe(r.render(r.worstCase.indices).length);
  });

  it('never expands placeholders inside level text', () => {
    const dims = [dim('tone', [level('x', '{{tone}} {{brief.product}}')])];
    expect(renderer('{{tone}}', { appendAvoid: false }, dims).render([0])).toBe(
      '{{tone}} {{brief.product}}',
    );
  });

  it('renders a row of a flat Uint16Array design in place via offset', () => {
    const r = renderer();
    const flat = Uint16Array.from([0, 0, 0, 1, 1, 1]);
    expect(r.render(flat, 3)).toBe(r.render([1, 1, 1]));
    expect(r.levelsOf(flat, 3)).toEqual({ tone: 'serious', setting: 'rooftop', city: 'tokyo' });
  });

  it('throws RangeError for an index outside its dimension', () => {
    const r = renderer();
    expect(() => r.render([0, 2, 0])).toThrow(
      /level index 2 is out of range for dimension "setting" \(2 levels\)/,
    );
    expect(() => r.lengthOf([0, 0])).toThrow(RangeError);
    expect(() => r.render([-1, 0, 0])).toThrow(RangeError);
  });

  it('has lengthOf equal to the rendered length for every combination', () => {
    const r = renderer('{{tone}}\\{{x}} {{setting}}{{city}}{{brief.audience}}');
    for (const combo of allCombinations([2, 2, 2])) {
      expect(r.lengthOf(combo)).toBe(r.render(combo).length);
    }
  });
});

describe('length cap', () => {
  const longest =
    'A calm and earnest ad for Fizz Cola set in a rooftop at dusk, Tokyo Bay.\nAvoid: alcohol, smoking.';

  it('accepts a prompt exactly at the cap and throws one character past it, naming the levels', () => {
    expect(renderer(TEMPLATE, { maxLength: longest.length }).render([1, 1, 1])).toBe(longest);
    const r = renderer(TEMPLATE, { maxLength: longest.length - 1 });
    expect(r.render([1, 1, 0])).toHaveLength(longest.length - 4);
    let thrown: unknown;
    try {
      r.render([1, 1, 1]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PromptTooLongError);
    expect((thrown as PromptTooLongError).issue).toEqual({
      path: 'prompt_template',
      message: `the prompt for tone=serious, setting=rooftop, city=tokyo is ${longest.length} characters; the limit is ${longest.length - 1}`,
      length: longest.length,
      maxLength: longest.length - 1,
      levels: { tone: 'serious', setting: 'rooftop', city: 'tokyo' },
    });
  });

  it('defaults the cap to 2000 characters', () => {
    const dims = [dim('tone', [level('a', 'x'.repeat(1000)), level('b', 'x'.repeat(2001))])];
    const r = renderer('{{tone}}', { appendAvoid: false }, dims);
    expect(r.maxLength).toBe(2000);
    expect(r.render([0])).toHaveLength(1000);
    expect(() => r.render([1])).toThrow(PromptTooLongError);
  });

  it('reports the worst case up front with the combination that reaches it', () => {
    const r = renderer(TEMPLATE, { maxLength: longest.length - 1 });
    expect(r.worstCase).toEqual({
      length: longest.length,
      levels: { tone: 'serious', setting: 'rooftop', city: 'tokyo' },
      indices: [1, 1, 1],
    });
    expect(r.worstCaseIssue?.levels).toEqual(r.worstCase.levels);
    expect(renderer(TEMPLATE, { maxLength: longest.length }).worstCaseIssue).toBeNull();
  });

  it('finds the brute-force maximum on random matrices, clause and brief included', () => {
    const random = rng(42);
    for (let trial = 0; trial < 200; trial++) {
      const width = 1 + Math.floor(random() * 4);
      const dims = Array.from({ length: width }, (_, d) =>
        dim(
          `d${d}`,
          Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) =>
            random() < 0.5
              ? level(`l${i}`, 'L'.repeat(1 + Math.floor(random() * 9)))
              : level(`l${i}`, 'L', 'p'.repeat(Math.floor(random() * 12))),
          ),
        ),
      );
      const template =
        dims.map((d) => `{{${d.key}}}`.repeat(1 + Math.floor(random() * 2))).join(' / ') +
        ' {{brief.product}}';
      const appendAvoid = random() < 0.5;
      const r = renderer(template, { appendAvoid, maxLength: 10_000 }, dims);
      let brute = 0;
      for (const combo of allCombinations(dims.map((d) => d.levels.length))) {
        brute = Math.max(brute, r.render(combo).length);
      }
      expect(r.worstCase.length, template).toBe(brute);
      expect(r.render(r.worstCase.indices)).toHaveLength(brute);
    }
  });

  it('checks a 10^20-combination matrix without enumerating it', () => {
    const dims = Array.from({ length: 20 }, (_, d) =>
      dim(
        `d${d}`,
        Array.from({ length: 10 }, (_, i) => level(`l${i}`, 'x'.repeat(1 + ((i * 7 + d) % 10)))),
      ),
    );
    const template = dims.map((d) => `{{${d.key}}}`).join(' ');
    const compiled = compileTemplate(template, { dimensions: dims.map((d) => d.key) });
    if (!compiled.ok) throw new Error('compile');
    const worst = maxRenderedLength(compiled.template, { dimensions: dims, brief });
    // 20 × longest fragment (10) + 19 spaces + "\nAvoid: alcohol, smoking."
    expect(worst.length).toBe(20 * 10 + 19 + 25);
    const r = createRenderer(compiled.template, { dimensions: dims, brief, maxLength: 200 });
    expect(r.ok && r.renderer.worstCaseIssue?.length).toBe(244);
  });
});
