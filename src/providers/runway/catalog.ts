/**
 * What each Runway model accepts and what it costs, as data. Campaigns speak `size: "WxH"`;
 * Runway speaks `ratio: "W:H"`, so the sizes a model takes are its ratios written as WxH.
 * Figures are Runway's published ones (docs.dev.runwayml.com, @runwayml/sdk 4.20.1); the price
 * is only the quote's fallback: Runway's own `estimatedCost` and `cost` win once known.
 */

/** 1 credit = $0.01. */
export const USD_PER_CREDIT = 0.01;

interface RunwayModelSpec {
  /** Takes a prompt alone (`POST /v1/text_to_video`). */
  textToVideo: boolean;
  /** Takes a first frame (`POST /v1/image_to_video`); without `textToVideo` one is required. */
  imageToVideo: boolean;
  /** Allowed clip lengths in seconds (`duration`). */
  seconds: readonly number[];
  /** Runway `ratio` values per mode; gen4.5 takes more ratios from an image than from text. */
  ratios: { textToVideo: readonly string[]; imageToVideo: readonly string[] };
  /** The same, as the `WxH` sizes campaigns use. */
  sizes: { textToVideo: readonly string[]; imageToVideo: readonly string[] };
  /** Can add a soundtrack (`audio: true`), at `creditsPerSecond.withAudio`. */
  audio: boolean;
  /** `promptText` limit, in UTF-16 code units (what JavaScript's `length` counts). */
  promptMaxChars: number;
  /** Price rule: credits per second of output, with and without audio. */
  creditsPerSecond: { base: number; withAudio?: number | undefined };
  /** The same in USD, the unit budgets use. */
  pricePerSecond: { base: number; withAudio?: number | undefined };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const ratioToSize = (ratio: string): string => ratio.replace(':', 'x');
export const sizeToRatio = (size: string): string => size.replace('x', ':');

function model(
  spec: Omit<RunwayModelSpec, 'sizes' | 'pricePerSecond' | 'promptMaxChars'> & {
    promptMaxChars?: number;
  },
): RunwayModelSpec {
  const usd = (credits: number | undefined) =>
    credits === undefined ? undefined : Math.round(credits * USD_PER_CREDIT * 1e6) / 1e6;
  return {
    ...spec,
    promptMaxChars: spec.promptMaxChars ?? 1000,
    sizes: {
      textToVideo: spec.ratios.textToVideo.map(ratioToSize),
      imageToVideo: spec.ratios.imageToVideo.map(ratioToSize),
    },
    pricePerSecond: {
      base: usd(spec.creditsPerSecond.base) ?? 0,
      withAudio: usd(spec.creditsPerSecond.withAudio),
    },
  };
}

const GEN4_I2V_RATIOS = ['1280:720', '720:1280', '1104:832', '960:960', '832:1104', '1584:672'];
const VEO_RATIOS = ['1280:720', '720:1280', '1080:1920', '1920:1080'];

export const RUNWAY_MODELS = {
  'gen4.5': model({
    textToVideo: true,
    imageToVideo: true,
    seconds: range(2, 10),
    ratios: { textToVideo: ['1280:720', '720:1280'], imageToVideo: GEN4_I2V_RATIOS },
    audio: false,
    creditsPerSecond: { base: 12 },
  }),
  gen4_turbo: model({
    textToVideo: false,
    imageToVideo: true,
    seconds: range(2, 10),
    ratios: { textToVideo: [], imageToVideo: GEN4_I2V_RATIOS },
    audio: false,
    creditsPerSecond: { base: 5 },
  }),
  'veo3.1': model({
    textToVideo: true,
    imageToVideo: true,
    seconds: [4, 6, 8],
    ratios: { textToVideo: VEO_RATIOS, imageToVideo: VEO_RATIOS },
    audio: true,
    creditsPerSecond: { base: 20, withAudio: 40 },
  }),
  'veo3.1_fast': model({
    textToVideo: true,
    imageToVideo: true,
    seconds: [4, 6, 8],
    ratios: { textToVideo: VEO_RATIOS, imageToVideo: VEO_RATIOS },
    audio: true,
    creditsPerSecond: { base: 10, withAudio: 15 },
  }),
} as const satisfies Record<string, RunwayModelSpec>;

export type RunwayCatalog = Readonly<Record<string, RunwayModelSpec>>;

export const RUNWAY_DEFAULT_MODEL = 'gen4.5';

/** Which create route a render takes: an image goes to image_to_video when the model takes one. */
type RunwayMode = 'text_to_video' | 'image_to_video';

export function modeFor(spec: RunwayModelSpec, hasImage: boolean): RunwayMode | null {
  if (hasImage && spec.imageToVideo) return 'image_to_video';
  if (!hasImage && spec.textToVideo) return 'text_to_video';
  // gen4_turbo without an image, or a text-only model handed one: refuse rather than guess.
  return null;
}

interface RunwayRequestCheck {
  model: string;
  seconds: number;
  size: string;
  hasImage: boolean;
  promptLength?: number | undefined;
}

/** Field-named problems with a request, for 422s and for refusing before a paid call. */
export function checkRunwayRequest(
  catalog: RunwayCatalog,
  req: RunwayRequestCheck,
): { path: string; message: string }[] {
  const spec = catalog[req.model];
  if (!spec) {
    const known = Object.keys(catalog).join(', ');
    return [{ path: 'video.model', message: `runway has no model ${req.model} (known: ${known})` }];
  }
  const errors: { path: string; message: string }[] = [];
  const mode = modeFor(spec, req.hasImage);
  if (!mode) {
    errors.push({
      path: 'video.reference_asset_id',
      message: spec.textToVideo
        ? `runway/${req.model} does not take a first-frame image`
        : `runway/${req.model} renders only from an image: set video.reference_asset_id`,
    });
  }
  if (!spec.seconds.includes(req.seconds)) {
    errors.push({
      path: 'video.seconds',
      message: `runway/${req.model} renders ${spec.seconds.join(', ')} s, not ${req.seconds}`,
    });
  }
  const sizes = mode === 'text_to_video' ? spec.sizes.textToVideo : spec.sizes.imageToVideo;
  if (mode && !sizes.includes(req.size)) {
    errors.push({
      path: 'video.size',
      message: `runway/${req.model} renders ${sizes.join(', ')}${mode === 'image_to_video' ? ' from an image' : ''}, not ${req.size}`,
    });
  }
  if (req.promptLength !== undefined && req.promptLength > spec.promptMaxChars) {
    errors.push({
      path: 'prompt',
      message: `runway/${req.model} takes prompts up to ${spec.promptMaxChars} characters, not ${req.promptLength}`,
    });
  }
  return errors;
}

/** The catalog's fallback quote in USD; Runway's `estimatedCost` replaces it after submit. */
export function runwayPriceUsd(
  catalog: RunwayCatalog,
  req: { model: string; seconds: number; audio?: boolean | undefined },
): number {
  const spec = catalog[req.model];
  if (!spec) return 0;
  const perSecond =
    req.audio && spec.pricePerSecond.withAudio !== undefined
      ? spec.pricePerSecond.withAudio
      : spec.pricePerSecond.base;
  return Math.round(perSecond * req.seconds * 1e6) / 1e6;
}

/**
 * Today's registry shape (`ModelSpec` in ../catalog.ts: seconds and a price per `WxH` size),
 * every size either mode takes, so the existing validation and quote can use Runway at once.
 */
export function toLegacyModelSpecs(
  catalog: RunwayCatalog,
  opts: { audio?: boolean | undefined } = {},
): Record<string, { seconds: readonly number[]; pricePerSecond: Record<string, number> }> {
  return Object.fromEntries(
    Object.entries(catalog).map(([name, spec]) => {
      const price =
        opts.audio && spec.pricePerSecond.withAudio !== undefined
          ? spec.pricePerSecond.withAudio
          : spec.pricePerSecond.base;
      const sizes = new Set([...spec.sizes.textToVideo, ...spec.sizes.imageToVideo]);
      return [
        name,
        {
          seconds: spec.seconds,
          pricePerSecond: Object.fromEntries([...sizes].map((s) => [s, price])),
        },
      ];
    }),
  );
}
