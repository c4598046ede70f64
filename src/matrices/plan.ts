import type { CampaignRow } from '../campaigns/repository.ts';
import type { DbOrTx } from '../db/client.ts';
import { type FieldError, type ProblemError, problems } from '../http/problem.ts';
import { compileTemplate, createRenderer, type PromptRenderer } from '../prompts/index.ts';
import { type ProviderCatalog, pricePerVariant } from '../providers/catalog.ts';
import { campaignSpend, findExistingVariants } from '../runs/repository.ts';
import { type BoundSpot, bindSpot, compileSpot } from '../spots/plan.ts';
import { quoteShots, type ShotQuote } from '../spots/quote.ts';
import { type Design, DesignError, generateDesign } from './designs/index.ts';
import { type NormalizedMatrix, toDesignSpace } from './parse/index.ts';
import type { DesignInput } from './schemas.ts';
import { checkPromptLimits, type RunVideos, resolveVideos, runKeyer } from './videos.ts';

type CampaignTemplates = Pick<CampaignRow, 'brief' | 'promptTemplate' | 'overlay' | 'spot'>;

/**
 * Dimensions a prompt need not mention: a logo (or background) dimension varies the picture
 * composited onto (or drawn behind) the video, a generator dimension the model that renders
 * the same prompt.
 */
function silentDimensions(matrix: NormalizedMatrix): string[] {
  return matrix.dimensions
    .filter((d) => d.levels.some((l) => l.asset_id || l.background_asset_id || l.video))
    .map((d) => d.key);
}

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
    optionalDimensions: silentDimensions(matrix),
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
  if (campaign.spot) compileSpot(campaign.spot, matrix, campaign.brief, maxPromptChars);
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

/** Explicit combinations arrive as dimension key → level key; the designs work on indices. */
function toDesign(matrix: NormalizedMatrix, input: DesignInput): Design {
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

function expandDesign(
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

/** Why a cost does not fit what is left of the budget, or null when it fits (or there is none). */
function budgetProblem(p: {
  cost: number;
  budget: number | null;
  committed: number;
  path?: string;
}): ProblemError | null {
  if (p.budget === null) return null;
  const available = roundUsd(p.budget - p.committed);
  if (p.cost <= available) return null;
  const over = roundUsd(p.cost - available);
  return problems.unprocessable(
    `The design costs $${p.cost.toFixed(2)}, $${over.toFixed(2)} over the campaign's remaining budget of $${available.toFixed(2)}.`,
    [{ path: p.path ?? 'design', message: `over budget by $${over.toFixed(2)}` }],
  );
}

export function checkBudget(p: Parameters<typeof budgetProblem>[0]) {
  const problem = budgetProblem(p);
  if (problem) throw problem;
}

/** What a design asks for, before any lookup: checked, expanded and priced per variant. */
interface PreparedRun {
  campaign: Pick<CampaignRow, 'id' | 'budgetUsd'>;
  matrix: NormalizedMatrix;
  combos: number[][];
  renderer: PromptRenderer;
  videos: RunVideos;
  /** One variant at the campaign's own settings. */
  unitUsd: number;
  /** One variant of this combination, at its own provider, model and size. */
  priceOf: (combo: readonly number[]) => number;
  maxCostUsd: number | null;
  /** A combination's variant key; a spot's variant's also names its shots. */
  keyOf: (combo: readonly number[], prompt: string) => string;
  /** The campaign's spot bound to the matrix: each variant's shots. Null: one clip each. */
  spot: BoundSpot | null;
}

export function prepareRun(p: {
  campaign: CampaignRow;
  matrix: NormalizedMatrix;
  design: DesignInput;
  maxCostUsd?: number | undefined;
  catalog: ProviderCatalog;
  maxVariantsPerRun: number;
  maxPromptChars: number;
}): PreparedRun {
  const renderer = bindMatrix(p.matrix, p.campaign, p.maxPromptChars);
  const videos = resolveVideos(p.matrix, p.campaign, p.catalog);
  const combos = expandDesign(
    toDesignSpace(p.matrix),
    toDesign(p.matrix, p.design),
    p.maxVariantsPerRun,
  );
  checkPromptLimits(p.catalog, videos, renderer, combos);
  const unitUsd = pricePerVariant(p.catalog, videos.base);
  const levelPrices = videos.byLevel.map((v) => pricePerVariant(p.catalog, v));
  const baseKey = runKeyer(p.campaign.id, p.matrix, videos);
  const spot = p.campaign.spot
    ? bindSpot({
        campaignId: p.campaign.id,
        spot: p.campaign.spot,
        renderers: compileSpot(p.campaign.spot, p.matrix, p.campaign.brief, p.maxPromptChars),
        dimensions: p.matrix.dimensions,
        productAssetId: p.campaign.video.reference_asset_id ?? null,
        brief: p.campaign.brief,
        size: videos.base.size,
        catalog: p.catalog,
      })
    : null;
  return {
    campaign: p.campaign,
    matrix: p.matrix,
    combos,
    renderer,
    videos,
    unitUsd,
    priceOf: spot
      ? (combo) => spot.shotsOf(combo).reduce((sum, s) => sum + s.priceUsd, 0)
      : videos.dim < 0
        ? () => unitUsd
        : (combo) => levelPrices[combo[videos.dim]!]!,
    maxCostUsd: p.maxCostUsd ?? null,
    // A changed spot makes new variants: the key holds the identities of the shots.
    keyOf: spot
      ? (combo, prompt) =>
          baseKey(
            combo,
            `${prompt}\u0000spot:${spot
              .shotsOf(combo)
              .map((s) => s.identity)
              .join(',')}`,
          )
      : baseKey,
    spot,
  };
}

interface RunPlan extends PreparedRun {
  /** Whether the campaign has variants at all, so the fan-out must look keys up. */
  reuse: boolean;
  /** Distinct variants of the run: a combination listed twice is one variant. */
  variantCount: number;
  /** Variants the campaign has never generated: made and paid for by this run. */
  newVariantCount: number;
  /** Variants the campaign already has (done or under way): free. */
  reusedVariantCount: number;
  /** Variants the campaign has, failed or cancelled: this run renders them again, and pays. */
  rerenderedVariantCount: number;
  costUsd: number;
  budget: {
    budgetUsd: number | null;
    /** What earlier runs paid, plus what their variants not yet submitted reserve. */
    committedUsd: number;
    remainingUsd: number | null;
    fits: boolean;
  };
  /** A spot's renders: unique shots against one render per variant and shot. Null: no spot. */
  shots: ShotQuote | null;
  /** The problem the run answers with (max_cost_usd first, then the budget), or null. */
  refusal: ProblemError | null;
}

/** Key lookups per round, as the fan-out does them. */
const lookupChunk = 5_000;

/**
 * The one planning function, for the preview (a quote, on the database) and the run (inside
 * its transaction, under the campaign lock, where its verdict is authoritative): which
 * variants are new, which are reused, what they cost, and whether that fits what earlier runs
 * left of the budget. Counts only: the fan-out looks the keys up again as it writes, so that
 * no more than a chunk of them is held at once.
 */
export async function planRun(db: DbOrTx, prepared: PreparedRun): Promise<RunPlan> {
  const { campaign, combos } = prepared;
  const spend = await campaignSpend(db, campaign.id);
  const reuse = spend.variants > 0;
  let variantCount = 0;
  let reused = 0;
  let rerendered = 0;
  // What the run pays: new and rerendered variants, each at its own generator's price.
  let cost = 0;
  // A spot's run is priced by its unique shots: the variants it renders are collected for that.
  const spot = prepared.spot;
  const distinct: (readonly number[])[] = [];
  const paid: (readonly number[])[] = [];
  if (!reuse) {
    // Distinct combinations are distinct variants (the key hashes the levels); only an
    // explicit design can list one twice.
    const seen = new Set<string>();
    for (const combo of combos) {
      const id = combo.join(',');
      if (seen.has(id)) continue;
      seen.add(id);
      cost += prepared.priceOf(combo);
      if (spot) distinct.push(combo);
    }
    variantCount = seen.size;
    if (spot) paid.push(...distinct);
  } else {
    const keyOf = prepared.keyOf;
    const seen = new Set<string>();
    for (let from = 0; from < combos.length; from += lookupChunk) {
      const toRender = new Map<string, readonly number[]>();
      for (const combo of combos.slice(from, from + lookupChunk)) {
        const key = keyOf(combo, prepared.renderer.render(combo));
        if (seen.has(key)) continue;
        seen.add(key);
        toRender.set(key, combo);
        if (spot) distinct.push(combo);
      }
      const keys = [...toRender.keys()];
      for (const known of await findExistingVariants(db, { campaignId: campaign.id, keys })) {
        if (known.status === 'failed' || known.status === 'cancelled') rerendered++;
        else {
          reused++;
          toRender.delete(known.variant_key);
        }
      }
      for (const combo of toRender.values()) {
        cost += prepared.priceOf(combo);
        if (spot) paid.push(combo);
      }
    }
    variantCount = seen.size;
  }
  const shots = spot
    ? await quoteShots(db, { campaignId: campaign.id, spot, combos: distinct, paid })
    : null;
  if (shots) cost = shots.costUsd;
  const newVariantCount = variantCount - reused - rerendered;
  const costUsd = roundUsd(cost);
  const budget = campaign.budgetUsd;
  const overBudget = budgetProblem({ cost: costUsd, budget, committed: spend.committed });
  const refusal =
    prepared.maxCostUsd !== null && costUsd > prepared.maxCostUsd
      ? problems.unprocessable(
          `The run costs $${costUsd.toFixed(2)}, $${roundUsd(costUsd - prepared.maxCostUsd).toFixed(2)} over max_cost_usd.`,
          [{ path: 'max_cost_usd', message: `run costs $${costUsd.toFixed(2)}` }],
        )
      : overBudget;
  return {
    ...prepared,
    shots,
    reuse,
    variantCount,
    newVariantCount,
    reusedVariantCount: reused,
    rerenderedVariantCount: rerendered,
    costUsd,
    budget: {
      budgetUsd: budget,
      committedUsd: roundUsd(spend.committed),
      remainingUsd: budget === null ? null : roundUsd(budget - spend.committed),
      fits: overBudget === null,
    },
    refusal,
  };
}
