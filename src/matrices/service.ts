import type { CampaignService } from '../campaigns/service.ts';
import type { Db } from '../db/client.ts';
import { type FieldError, ProblemError, problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import type { ProviderCatalog } from '../providers/catalog.ts';
import { designAnalysis } from './analysis.ts';
import { countAllowed } from './designs/index.ts';
import { glyphWarnings, type MissingGlyphs } from './glyph-warnings.ts';
import {
  type ConstraintInput,
  type MatrixLimits,
  type MatrixResult,
  type NormalizedMatrix,
  parseMatrixCsv,
  parseMatrixXlsx,
  toDesignSpace,
  validateMatrix,
} from './parse/index.ts';
import { bindMatrix, planRun, prepareRun, roundUsd } from './plan.ts';
import type { PowerInput } from './power.ts';
import * as repo from './repository.ts';
import type { DesignInput } from './schemas.ts';
import { resolveVideos, videoOf } from './videos.ts';

export type MatrixSource =
  | { kind: 'json'; body: unknown }
  | { kind: 'csv'; text: string | Buffer; name?: string; constraints?: ConstraintInput[] }
  | { kind: 'xlsx'; buffer: Buffer; name?: string; constraints?: ConstraintInput[] };

interface MatrixServiceConfig {
  limits: MatrixLimits;
  maxVariantsPerRun: number;
  maxPromptChars: number;
}

export function toMatrixResponse(row: repo.MatrixRow) {
  return {
    id: row.id,
    campaign_id: row.campaignId,
    name: row.name,
    source: row.source,
    dimensions: row.document.dimensions,
    constraints: row.document.constraints,
    full_factorial_count: row.fullFactorialCount,
    allowed_count: row.allowedCount,
    created_at: row.createdAt.toISOString(),
  };
}

const statusOf = { malformed: 400, invalid: 422, too_large: 413 } as const;

function parseProblem(result: Extract<MatrixResult, { ok: false }>): ProblemError {
  const detail =
    result.kind === 'malformed'
      ? 'The matrix cannot be read.'
      : result.kind === 'too_large'
        ? 'The matrix file is too large.'
        : 'The matrix is not acceptable.';
  return new ProblemError({
    status: statusOf[result.kind],
    slug:
      result.kind === 'malformed'
        ? 'malformed-request'
        : result.kind === 'too_large'
          ? 'payload-too-large'
          : 'unprocessable',
    title:
      result.kind === 'malformed'
        ? 'Malformed request'
        : result.kind === 'too_large'
          ? 'Payload too large'
          : 'Unprocessable request',
    detail,
    errors: result.errors,
  });
}

export function createMatrixService(deps: {
  db: Db;
  campaigns: Pick<CampaignService, 'get'>;
  ownedAssetIds: (tenantId: string, ids: string[]) => Promise<Set<string>>;
  catalog: ProviderCatalog;
  config: MatrixServiceConfig;
  /** The caption fonts' coverage; without it uploads give no glyph warnings. */
  missingGlyphs?: MissingGlyphs | undefined;
}) {
  const { db, config } = deps;

  async function parse(
    source: MatrixSource,
  ): Promise<{ matrix: NormalizedMatrix; name: string | null }> {
    const result =
      source.kind === 'json'
        ? validateMatrix(source.body, config.limits)
        : source.kind === 'csv'
          ? parseMatrixCsv(source.text, config.limits, source.constraints)
          : await parseMatrixXlsx(source.buffer, config.limits, source.constraints);
    if (!result.ok) throw parseProblem(result);
    const name = source.kind === 'json' ? (result.matrix.name ?? null) : (source.name ?? null);
    return { matrix: result.matrix, name };
  }

  /**
   * A level may only point at a logo or background of the same tenant; others' are "unknown".
   * Each may sit in one dimension, whatever it is called: a variant gets one of each, so a
   * second dimension carrying them could only be ignored.
   */
  async function checkAssets(tenantId: string, matrix: NormalizedMatrix) {
    const refs: { id: string; path: string }[] = [];
    const kinds = [
      { field: 'asset_id', name: 'logo', plural: 'Logos' },
      { field: 'background_asset_id', name: 'background', plural: 'Backgrounds' },
    ] as const;
    for (const kind of kinds) {
      let carrier: string | undefined;
      matrix.dimensions.forEach((dim, d) => {
        dim.levels.forEach((level, l) => {
          const id = level[kind.field];
          if (!id) return;
          const path = `dimensions[${d}].levels[${l}].${kind.field}`;
          carrier ??= dim.key;
          if (carrier !== dim.key) {
            throw problems.unprocessable(`${kind.plural} may sit in one dimension of a matrix.`, [
              {
                path,
                message: `dimension "${dim.key}" carries a ${kind.name}, but "${carrier}" already does`,
              },
            ]);
          }
          refs.push({ id, path });
        });
      });
    }
    if (!refs.length) return;
    const owned = await deps.ownedAssetIds(tenantId, [...new Set(refs.map((r) => r.id))]);
    const errors: FieldError[] = refs
      .filter((r) => !owned.has(r.id))
      .map((r) => ({ path: r.path, message: `unknown asset ${r.id}` }));
    if (errors.length)
      throw problems.unprocessable('Some levels point at assets that do not exist.', errors);
  }

  async function get(tenantId: string, id: string) {
    const row = await repo.findMatrix(db, { tenantId, id });
    if (!row) throw problems.notFound('matrix');
    return row;
  }

  return {
    get,

    async create(tenantId: string, campaignId: string, source: MatrixSource) {
      const campaign = await deps.campaigns.get(tenantId, campaignId);
      const { matrix, name } = await parse(source);
      await checkAssets(tenantId, matrix);
      bindMatrix(matrix, campaign, config.maxPromptChars);
      // Generator levels are checked now too, so a bad model is a 422 naming its level here.
      resolveVideos(matrix, campaign, deps.catalog);
      const space = toDesignSpace(matrix);
      const full = space.levels.reduce((acc, n) => acc * BigInt(n), 1n);
      const warnings = deps.missingGlyphs ? await glyphWarnings(matrix, deps.missingGlyphs) : [];
      const row = await repo.insertMatrix(db, {
        id: newId('matrix'),
        tenantId,
        campaignId,
        name,
        source: source.kind,
        document: matrix,
        fullFactorialCount: full.toString(),
        allowedCount: countAllowed(space).toString(),
      });
      return { row, warnings };
    },

    list: (tenantId: string, campaignId: string, page: { after?: string; limit: number }) =>
      deps.campaigns
        .get(tenantId, campaignId)
        .then(() => repo.listMatrices(db, { tenantId, campaignId, ...page })),

    /** Everything a run would do short of writing: count, price, stats and prompts. */
    async preview(
      tenantId: string,
      id: string,
      body: { design: DesignInput; sample_size: number; power?: PowerInput | undefined },
    ) {
      const row = await get(tenantId, id);
      const campaign = await deps.campaigns.get(tenantId, row.campaignId);
      // The run's own plan, so a quote that fits is a run that is accepted (budget permitting
      // whatever else is started in between).
      const plan = await planRun(
        db,
        prepareRun({
          campaign,
          matrix: row.document,
          design: body.design,
          catalog: deps.catalog,
          maxVariantsPerRun: config.maxVariantsPerRun,
          maxPromptChars: config.maxPromptChars,
        }),
      );
      const combinations = plan.combos;
      const analysis = designAnalysis({
        matrix: row.document,
        design: body.design,
        combinations,
        power: body.power,
      });
      return {
        variant_count: plan.variantCount,
        new_variant_count: plan.newVariantCount,
        reused_variant_count: plan.reusedVariantCount,
        rerendered_variant_count: plan.rerenderedVariantCount,
        estimated_cost_usd: plan.costUsd,
        unit_cost_usd: roundUsd(plan.unitUsd),
        shots: plan.shots && {
          unique: plan.shots.unique,
          render_seconds: plan.shots.renderSeconds,
          naive_render_seconds: plan.shots.naiveRenderSeconds,
        },
        budget: {
          budget_usd: plan.budget.budgetUsd,
          committed_usd: plan.budget.committedUsd,
          remaining_usd: plan.budget.remainingUsd,
          fits: plan.budget.fits,
          detail: plan.refusal?.detail ?? null,
        },
        design_stats: analysis.design_stats,
        sample: combinations.slice(0, body.sample_size).map((combo) => {
          const video = videoOf(plan.videos, combo);
          return {
            levels: plan.renderer.levelsOf(combo),
            prompt: plan.renderer.render(combo),
            provider: video.provider,
            model: video.model,
            cost_usd: roundUsd(plan.priceOf(combo)),
          };
        }),
        ...(analysis.power ? { power: analysis.power } : {}),
      };
    },
  };
}

export type MatrixService = ReturnType<typeof createMatrixService>;
