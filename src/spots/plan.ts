import { createHash } from 'node:crypto';
import type { Brief, SpotSettings } from '../db/schema.ts';
import { type FieldError, problems } from '../http/problem.ts';
import type { NormalizedMatrix } from '../matrices/parse/index.ts';
import { compileTemplate, createRenderer, type PromptRenderer } from '../prompts/index.ts';
import { type ProviderCatalog, type ProviderName, pricePerVariant } from '../providers/catalog.ts';
import {
  type DrawnImages,
  type DrawnText,
  drawnImages,
  drawnText,
  namedDimensions,
} from './shot-drawing.ts';
import { endCardErrors } from './validate.ts';

/** One shot of one variant, as the fan-out writes it and the quote counts it. */
export interface ShotRef {
  identity: string;
  key: string;
  prompt: string;
  provider: string;
  model: string;
  seconds: number;
  size: string;
  referenceAssetId: string | null;
  /** `previous_last_frame`: the identity of the shot before, whose last frame starts this one. */
  previousIdentity: string | null;
  /** The images the built-in renderer draws for this shot (null: none, or a trained model). */
  drawn: DrawnImages | null;
  /** The words the built-in renderer draws on this shot (null: a trained model). */
  text: DrawnText | null;
  priceUsd: number;
}

/**
 * Compiles each shot's template against the matrix: a placeholder that is neither a
 * dimension nor a brief field, or a prompt over the limit, is a 422 naming
 * `spot.shots[i].prompt_template`. A shot need not mention every dimension: the ones it
 * leaves out are what lets variants share it.
 */
export function compileSpot(
  spot: SpotSettings,
  matrix: Pick<NormalizedMatrix, 'dimensions'>,
  brief: Brief,
  maxPromptChars: number,
): PromptRenderer[] {
  const dimensions = matrix.dimensions.map((d) => d.key);
  const errors: FieldError[] = [];
  const renderers = spot.shots.map((shot, i) => {
    const path = `spot.shots[${i}].prompt_template`;
    const compiled = compileTemplate(shot.prompt_template, {
      dimensions,
      requireAllDimensions: false,
      path,
    });
    if (!compiled.ok) {
      errors.push(...compiled.errors);
      return null;
    }
    const bound = createRenderer(compiled.template, {
      dimensions: matrix.dimensions,
      brief,
      maxLength: maxPromptChars,
    });
    if (!bound.ok) {
      errors.push(...bound.errors.map((e) => ({ path, message: `${e.path}: ${e.message}` })));
      return null;
    }
    const issue = bound.renderer.worstCaseIssue;
    if (issue)
      errors.push({ path, message: `${issue.message} (levels ${JSON.stringify(issue.levels)})` });
    return bound.renderer;
  });
  errors.push(...endCardErrors(spot, dimensions));
  if (errors.length)
    throw problems.unprocessable("The matrix does not fit the campaign's spot.", errors);
  return renderers as PromptRenderer[];
}

/** The shot's identity: equal identities are one render, paid once per campaign. */
function shotIdentity(campaignId: string, s: Omit<ShotRef, 'identity' | 'priceUsd'>): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        campaignId,
        s.key,
        s.prompt,
        s.provider,
        s.model,
        s.size,
        s.seconds,
        s.referenceAssetId,
        // A chained shot is another render for every different shot before it.
        ...(s.previousIdentity ? [s.previousIdentity] : []),
        // Another picture is another render; a shot drawing none keeps the identity it had.
        ...(s.drawn ? [{ drawn: s.drawn }] : []),
        // Other words on screen are another render (free: only the built-in renderer draws them).
        ...(s.text ? [{ text: s.text }] : []),
      ]),
    )
    .digest('hex');
}

export interface BoundSpot {
  /** The shots of a combination, in order. */
  shotsOf(combo: readonly number[]): ShotRef[];
  /** The assembled length: the shots less the overlaps of their fades, plus the end card. */
  seconds: number;
}

export function bindSpot(p: {
  campaignId: string;
  spot: SpotSettings;
  renderers: readonly PromptRenderer[];
  /** The matrix's dimensions, whose levels may carry the background a shot draws. */
  dimensions: NormalizedMatrix['dimensions'];
  /** The campaign's product image, drawn by renderers with no trained model. */
  productAssetId: string | null;
  /** The brief, whose words the built-in renderer draws beside the levels' labels. */
  brief: Brief;
  size: string;
  catalog: ProviderCatalog;
}): BoundSpot {
  const shots = p.spot.shots;
  // A shot's render depends only on its prompt, the images it draws (and, chained, on the shot
  // before): cache by them, so 600 variants hash 27 shots.
  const caches = shots.map(() => new Map<string, ShotRef>());
  const keys = p.dimensions.map((d) => d.key);
  const named = shots.map((s) => namedDimensions(s.prompt_template, keys));
  const prices = shots.map((s) =>
    pricePerVariant(p.catalog, {
      provider: s.video.provider as ProviderName,
      model: s.video.model,
      seconds: s.seconds,
      size: p.size,
    }),
  );
  const overlap = p.spot.transition.type === 'fade' ? p.spot.transition.seconds : 0;
  return {
    seconds:
      shots.reduce((sum, s) => sum + s.seconds, 0) -
      overlap * (shots.length - 1) +
      (p.spot.end_card?.seconds ?? 0),
    shotsOf(combo) {
      const refs: ShotRef[] = [];
      shots.forEach((shot, i) => {
        const prompt = p.renderers[i]!.render(combo);
        const chained = shot.first_frame === 'previous_last_frame';
        const previousIdentity = chained ? (refs[i - 1]?.identity ?? null) : null;
        const firstFrameAssetId =
          typeof shot.first_frame === 'object' ? shot.first_frame.asset_id : null;
        const levels = named[i]!.map((d) => p.dimensions[d]?.levels[combo[d]!]);
        const drawn = drawnImages({
          provider: shot.video.provider,
          levels,
          productAssetId: p.productAssetId,
          firstFrameAssetId,
        });
        const text = drawnText({ provider: shot.video.provider, levels, brief: p.brief });
        const cacheKey = JSON.stringify([
          previousIdentity,
          drawn?.background ?? null,
          text?.captions ?? null,
          prompt,
        ]);
        const cached = caches[i]!.get(cacheKey);
        if (cached) {
          refs.push(cached);
          return;
        }
        const base = {
          key: shot.key,
          prompt,
          provider: shot.video.provider,
          model: shot.video.model,
          seconds: shot.seconds,
          size: p.size,
          referenceAssetId: firstFrameAssetId,
          previousIdentity,
          drawn,
          text,
        };
        const ref = { ...base, identity: shotIdentity(p.campaignId, base), priceUsd: prices[i]! };
        caches[i]!.set(cacheKey, ref);
        refs.push(ref);
      });
      return refs;
    },
  };
}
