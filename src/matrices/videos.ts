/**
 * The generator of each variant: the campaign's video settings, or those of its level in the
 * one dimension that carries generators (the generator as a variable), checked against the
 * catalog, keyed and limited per model.
 */
import type { CampaignRow } from '../campaigns/repository.ts';
import { type FieldError, problems } from '../http/problem.ts';
import { type PromptRenderer, variantKeyer } from '../prompts/index.ts';
import {
  campaignVideoPaths,
  checkVideo,
  type ProviderCatalog,
  promptLimit,
  type ResolvedVideo,
} from '../providers/catalog.ts';
import type { NormalizedMatrix } from './parse/index.ts';

/** The video a variant is rendered with: the campaign's, or its generator level's. */
export interface RunVideos {
  /** The dimension whose levels carry generators, or -1 when none does. */
  dim: number;
  /** The campaign's settings: every variant's when no dimension carries a generator. */
  base: ResolvedVideo;
  /** Per level of `dim`: that level's settings (the campaign's where the level names none). */
  byLevel: ResolvedVideo[];
}

/**
 * Every video a matrix asks for, checked against the catalog now (the campaign may have
 * changed, or a provider lost its key, since the matrix was stored): the campaign's under
 * `video.*`, each generator level's under its own path, every error at once. A generator sits
 * in one dimension: a variant has one generator, so a second dimension could only be ignored.
 */
export function resolveVideos(
  matrix: NormalizedMatrix,
  campaign: Pick<CampaignRow, 'video' | 'spot'>,
  catalog: ProviderCatalog,
): RunVideos {
  const v = campaign.video;
  const hasImage = v.reference_asset_id !== undefined;
  const base = checkVideo(catalog, { ...v, hasImage }, campaignVideoPaths);
  if (!base.ok)
    throw problems.unprocessable(
      "The campaign's video settings are not supported by the provider.",
      base.errors,
    );
  let dim = -1;
  const errors: FieldError[] = [];
  matrix.dimensions.forEach((d, i) => {
    const l = d.levels.findIndex((level) => level.video);
    if (l < 0) return;
    if (dim < 0) dim = i;
    else if (dim !== i)
      throw problems.unprocessable('Generators may sit in one dimension of a matrix.', [
        {
          path: `dimensions[${i}].levels[${l}].video`,
          message: `dimension "${d.key}" carries a generator, but "${matrix.dimensions[dim]!.key}" already does`,
        },
      ]);
  });
  if (dim < 0) return { dim, base: base.video, byLevel: [] };
  // A spot renders shots, each on its own generator (the campaign's unless the shot names one),
  // validated per shot for its seconds and first frame and paid once per campaign by that
  // identity. A level's generator would either be ignored (variants recording a provider
  // their shots never used, as they once did) or override shots whose generator was chosen
  // and checked on purpose. Refused, naming the level: to compare generators in a spot, give
  // each shot its generator, or make one campaign per generator.
  if (campaign.spot) {
    const l = matrix.dimensions[dim]!.levels.findIndex((level) => level.video);
    throw problems.unprocessable("A spot's shots choose their own generators.", [
      {
        path: `dimensions[${dim}].levels[${l}].video`,
        message:
          "the campaign has a spot, whose shots render on their own generators (spot.shots[i].video); a level's generator cannot apply to them",
      },
    ]);
  }
  const byLevel = matrix.dimensions[dim]!.levels.map((level, l) => {
    if (!level.video) return base.video;
    const at = `dimensions[${dim}].levels[${l}].video`;
    const check = checkVideo(
      catalog,
      {
        provider: level.video.provider,
        model: level.video.model,
        seconds: v.seconds,
        size: v.size,
        hasImage,
        image: 'lenient',
      },
      // Seconds, size and image are the campaign's: the level is what makes them not fit.
      { provider: `${at}.provider`, model: `${at}.model`, seconds: at, size: at, image: at },
    );
    if (check.ok) return check.video;
    errors.push(...check.errors);
    return base.video;
  });
  if (errors.length)
    throw problems.unprocessable(
      "Some levels ask for generators that cannot make the campaign's video.",
      errors.slice(0, 100),
    );
  return { dim, base: base.video, byLevel };
}

export const videoOf = (videos: RunVideos, combo: ArrayLike<number>): ResolvedVideo =>
  videos.dim < 0 ? videos.base : videos.byLevel[combo[videos.dim]!]!;

/**
 * Variant keys for a run: one keyer per distinct video, so a variant's key holds its own
 * provider and model (and a matrix without a generator dimension keys exactly as before).
 */
export function runKeyer(
  campaignId: string,
  matrix: Pick<NormalizedMatrix, 'dimensions'>,
  videos: RunVideos,
): (combo: readonly number[], prompt: string) => string {
  const dimensions = matrix.dimensions.map((d) => ({
    key: d.key,
    levels: d.levels.map((l) => l.key),
  }));
  const make = (video: ResolvedVideo) => variantKeyer({ campaignId, dimensions, video });
  if (videos.dim < 0) return make(videos.base);
  const keyers = videos.byLevel.map(make);
  return (combo, prompt) => keyers[combo[videos.dim]!]!(combo, prompt);
}

/**
 * Each variant's prompt against its own model's limit (Runway's is 1000 characters, the
 * deployment's PROMPT_MAX_CHARS 2000 by default): rendered only when the longest prompt the
 * matrix can make is over the smallest limit in play.
 */
export function checkPromptLimits(
  catalog: ProviderCatalog,
  videos: RunVideos,
  renderer: PromptRenderer,
  combos: readonly number[][],
) {
  const used = videos.dim < 0 ? [videos.base] : videos.byLevel;
  const limits = used.map((v) => promptLimit(catalog, v)).filter((n) => n !== null);
  if (!limits.length || renderer.worstCase.length <= Math.min(...limits)) return;
  const errors: FieldError[] = [];
  let over = 0;
  for (const combo of combos) {
    const video = videoOf(videos, combo);
    const limit = promptLimit(catalog, video);
    if (limit === null) continue;
    const length = renderer.render(combo).length;
    if (length <= limit) continue;
    over++;
    if (errors.length < 10)
      errors.push({
        path: 'prompt_template',
        message: `the prompt for levels ${JSON.stringify(renderer.levelsOf(combo))} is ${length} characters; ${video.provider}/${video.model} takes up to ${limit}`,
      });
  }
  if (over)
    throw problems.unprocessable(
      `${over} variant${over === 1 ? '' : 's'} of the design would send a prompt longer than the model takes.`,
      errors,
    );
}
