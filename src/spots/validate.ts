import type { AssetKind, SpotSettings, VideoSettings } from '../db/schema.ts';
import { type FieldError, problems } from '../http/problem.ts';
import { compileTemplate } from '../prompts/index.ts';
import { checkVideo, type ProviderCatalog } from '../providers/catalog.ts';
import type { SpotInput } from './schemas.ts';

/**
 * Checks a campaign's spot against the provider catalog and resolves each shot's generator
 * (the campaign's unless the shot names one): seconds a shot's model cannot make, a
 * transition longer than a shot, duplicate keys, an audio bed that is not the tenant's audio
 * asset, and the parts not built yet are 422s naming the field. Placeholders are checked against the matrix (`bindSpot`), which knows the
 * dimensions.
 */
export async function resolveSpot(
  p: {
    catalog: ProviderCatalog;
    video: VideoSettings;
    /** Which of these ids are the tenant's assets of that kind (images unless told). */
    ownedAssetIds: (ids: string[], kind?: AssetKind) => Promise<Set<string>>;
  },
  input: SpotInput,
): Promise<SpotSettings> {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  const assetIds: { path: string; id: string }[] = [];
  const shots = input.shots.map((shot, i) => {
    const at = `spot.shots[${i}]`;
    if (seen.has(shot.key))
      errors.push({ path: `${at}.key`, message: `duplicate key ${shot.key}` });
    seen.add(shot.key);
    const check = checkVideo(
      p.catalog,
      {
        provider: shot.video?.provider ?? p.video.provider,
        model: shot.video?.model ?? (shot.video ? undefined : p.video.model),
        seconds: shot.seconds,
        size: p.video.size,
        hasImage: shot.first_frame !== undefined,
      },
      {
        provider: `${at}.video.provider`,
        model: `${at}.video.model`,
        seconds: `${at}.seconds`,
        size: 'video.size',
        image: `${at}.first_frame`,
      },
    );
    if (!check.ok) errors.push(...check.errors);
    if (shot.first_frame === 'previous_last_frame' && i === 0)
      errors.push({
        path: `${at}.first_frame`,
        message: 'the first shot has no shot before it; use {asset_id} or leave it out',
      });
    else if (typeof shot.first_frame === 'object')
      assetIds.push({ path: `${at}.first_frame.asset_id`, id: shot.first_frame.asset_id });
    const video = check.ok
      ? { provider: check.video.provider, model: check.video.model }
      : { provider: '', model: '' };
    return {
      key: shot.key,
      prompt_template: shot.prompt_template,
      seconds: shot.seconds,
      video,
      ...(shot.first_frame ? { first_frame: shot.first_frame } : {}),
    };
  });
  const formats = input.formats ?? [];
  formats.forEach((f, i) => {
    if (formats.indexOf(f) !== i)
      errors.push({ path: `spot.formats[${i}]`, message: `${f} is listed twice` });
  });
  const transition = input.transition;
  if (transition.type === 'fade') {
    const shortest = Math.min(...shots.map((s) => s.seconds));
    if (transition.seconds <= 0 || transition.seconds >= shortest)
      errors.push({
        path: 'spot.transition.seconds',
        message: `a fade lasts more than 0 s and less than the shortest shot (${shortest} s), not ${transition.seconds}`,
      });
  } else if (transition.seconds !== 0) {
    errors.push({ path: 'spot.transition.seconds', message: 'a cut lasts 0 s' });
  }
  if (assetIds.length) {
    // Another tenant's asset is as unknown as one that does not exist.
    const owned = await p.ownedAssetIds(assetIds.map((a) => a.id));
    for (const a of assetIds)
      if (!owned.has(a.id)) errors.push({ path: a.path, message: `unknown asset ${a.id}` });
  }
  if (input.audio) {
    const id = input.audio.asset_id;
    if (!(await p.ownedAssetIds([id], 'audio')).has(id))
      errors.push({ path: 'spot.audio.asset_id', message: `unknown audio asset ${id}` });
  }
  if (errors.length) throw problems.unprocessable('The spot is not valid.', errors);
  return {
    shots,
    transition,
    ...(input.end_card ? { end_card: input.end_card } : {}),
    ...(input.audio ? { audio: input.audio } : {}),
    ...(formats.length ? { formats } : {}),
  };
}

/**
 * The end card's template against the matrix, as `compileSpot` checks the shots': a
 * placeholder that is neither a dimension nor a brief field is an error naming
 * `spot.end_card.text_template`.
 */
export function endCardErrors(spot: SpotSettings, dimensions: readonly string[]): FieldError[] {
  if (!spot.end_card) return [];
  const compiled = compileTemplate(spot.end_card.text_template, {
    dimensions: [...dimensions],
    requireAllDimensions: false,
    path: 'spot.end_card.text_template',
  });
  return compiled.ok ? [] : compiled.errors;
}

/** A stored spot as input again, to check it against a changed campaign video (size). */
export function toSpotInput(spot: SpotSettings): SpotInput {
  return {
    shots: spot.shots.map((s) => ({ ...s, video: s.video as SpotInput['shots'][number]['video'] })),
    transition: spot.transition,
    ...(spot.end_card ? { end_card: spot.end_card } : {}),
    ...(spot.audio ? { audio: spot.audio } : {}),
    ...(spot.formats ? { formats: spot.formats } : {}),
  };
}
