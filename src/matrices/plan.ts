import type { CampaignRow } from '../campaigns/repository.ts';
import { type FieldError, problems } from '../http/problem.ts';
import { compileTemplate, createRenderer, type PromptRenderer } from '../prompts/index.ts';
import { type Design, DesignError, generateDesign } from './designs/index.ts';
import type { NormalizedMatrix } from './parse/index.ts';
import type { DesignInput } from './schemas.ts';

type CampaignTemplates = Pick<CampaignRow, 'brief' | 'promptTemplate' | 'overlay'>;

/**
 * Checks a matrix against its campaign's templates and returns the prompt renderer. Run when a
 * matrix is created, so an unknown placeholder is a 422 then, not a failed render later.
 */
export function bindMatrix(
  matrix: NormalizedMatrix,
  campaign: CampaignTemplates,
  maxPromptChars: number,
): PromptRenderer {
  const dimensions = matrix.dimensions.map((d) => d.key);
  const compiled = compileTemplate(campaign.promptTemplate, {
    dimensions,
    optionalDimensions: logoDimensions(matrix),
  });
  if (!compiled.ok)
    throw problems.unprocessable(
      "The matrix does not fit the campaign's prompt_template.",
      compiled.errors,
    );
  const bound = createRenderer(compiled.template, {
    dimensions: matrix.dimensions,
    brief: campaign.brief,
    maxLength: maxPromptChars,
  });
  if (!bound.ok)
    throw problems.unprocessable(
      "The matrix does not fit the campaign's prompt_template.",
      bound.errors,
    );
  const issue = bound.renderer.worstCaseIssue;
  if (issue) {
    throw problems.unprocessable(
      `The longest prompt this matrix renders is ${issue.length} characters, over the limit of ${issue.maxLength}.`,
      [
        {
          path: 'prompt_template',
          message: `${issue.message} (levels ${JSON.stringify(issue.levels)})`,
        },
      ],
    );
  }
  if (campaign.overlay.text_template) {
    const overlay = compileTemplate(campaign.overlay.text_template, {
      dimensions,
      requireAllDimensions: false,
      path: 'overlay.text_template',
    });
    if (!overlay.ok)
      throw problems.unprocessable(
        "The matrix does not fit the campaign's overlay text.",
        overlay.errors,
      );
  }
  return bound.renderer;
}

/** Dimensions whose levels carry a logo (at most one per matrix, checked at creation). */
export function logoDimensions(matrix: NormalizedMatrix): string[] {
  return matrix.dimensions.filter((d) => d.levels.some((l) => l.asset_id)).map((d) => d.key);
}

/** Explicit combinations arrive as dimension key → level key; the designs work on indices. */
export function toDesign(matrix: NormalizedMatrix, input: DesignInput): Design {
  if (input.type !== 'explicit') return input;
  const errors: FieldError[] = [];
  const combinations = input.combinations.map((combo, i) => {
    const path = `design.combinations[${i}]`;
    for (const key of Object.keys(combo)) {
      if (!matrix.dimensions.some((d) => d.key === key))
        errors.push({ path: `${path}.${key}`, message: 'unknown dimension' });
    }
    return matrix.dimensions.map((dim) => {
      const level = combo[dim.key];
      if (level === undefined) {
        errors.push({ path: `${path}.${dim.key}`, message: 'missing' });
        return 0;
      }
      const index = dim.levels.findIndex((l) => l.key === level);
      if (index < 0)
        errors.push({ path: `${path}.${dim.key}`, message: `unknown level "${level}"` });
      return Math.max(index, 0);
    });
  });
  if (errors.length)
    throw problems.unprocessable(
      'Some explicit combinations do not match the matrix.',
      errors.slice(0, 100),
    );
  return { type: 'explicit', combinations };
}

const reasons: Record<string, string> = {
  excluded: 'excluded by a constraint',
  level_out_of_range: 'unknown level',
  wrong_dimension_count: 'wrong number of dimensions',
  not_an_array: 'not a combination',
};

export function expandDesign(
  space: Parameters<typeof generateDesign>[0],
  design: Design,
  maxVariants: number,
): number[][] {
  try {
    return generateDesign(space, design, { maxVariants }).combinations;
  } catch (err) {
    if (!(err instanceof DesignError)) throw err;
    const d = err.details;
    switch (err.code) {
      case 'too_many_variants': {
        const count = BigInt(d.count_exact ?? d.count ?? 0);
        const over = count - BigInt(d.limit ?? maxVariants);
        throw problems.unprocessable(
          `The design yields ${count} variants, ${over} over the limit of ${d.limit ?? maxVariants} per run.`,
          [{ path: 'design', message: `${count} variants > ${d.limit ?? maxVariants}` }],
        );
      }
      case 'invalid_combination':
        throw problems.unprocessable(err.message, [
          {
            path: `design.combinations[${d.index ?? 0}]`,
            message: reasons[d.reason ?? ''] ?? err.message,
          },
        ]);
      default:
        throw problems.unprocessable(err.message, [{ path: 'design', message: err.message }]);
    }
  }
}

/** Cents-exact arithmetic: prices are per second and budgets are in dollars. */
export function roundUsd(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

export function checkBudget(p: {
  cost: number;
  budget: number | null;
  committed: number;
  path?: string;
}) {
  if (p.budget === null) return;
  const available = roundUsd(p.budget - p.committed);
  if (p.cost > available) {
    const over = roundUsd(p.cost - available);
    throw problems.unprocessable(
      `The design costs $${p.cost.toFixed(2)}, $${over.toFixed(2)} over the campaign's remaining budget of $${available.toFixed(2)}.`,
      [{ path: p.path ?? 'design', message: `over budget by $${over.toFixed(2)}` }],
    );
  }
}
