/**
 * fal.ai models as data: what each accepts and how our render spec becomes its input. Field
 * names and enums come from each model's `https://fal.ai/models/<id>/llms.txt` page (Pika's also
 * from providers.md); anything marked "unconfirmed" rests on a third-party page or on a guess
 * about the output's pixel size, and is what to check first when a live call is refused.
 */

/** How a model spells `duration`: `5`, `"5"` or `"5s"`. */
type DurationFormat = 'integer' | 'string' | 'seconds_suffix';

interface FalSize {
  aspect_ratio: string;
  /** Sent only to models that take a `resolution`. */
  resolution?: string | undefined;
  /** USD per second of output at this size, with the model's `fixedInput` (audio on or off). */
  pricePerSecond: number;
}

interface FalModel {
  /** Endpoint id, `owner/app[/path]`; submit posts to it, status/result/cancel use `owner/app`. */
  id: string;
  mode: 't2v' | 'i2v';
  seconds: readonly number[];
  durationFormat: DurationFormat;
  /** Our `WxH` → fal's aspect ratio and resolution, and the price at that size. */
  sizes: Readonly<Record<string, FalSize>>;
  /** `none`: silent; `optional`: `fixedInput` says whether it is generated; `native`: always. */
  audio: 'none' | 'optional' | 'native';
  /** Longest prompt accepted, in characters. */
  promptMaxChars: number;
  /** Field that takes the first-frame image (image-to-video). */
  imageField?: string | undefined;
  /** Sent with every request to this model (audio switch, safety options). */
  fixedInput?: Readonly<Record<string, unknown>> | undefined;
}

export type FalCatalog = Readonly<Record<string, FalModel>>;

const pikaSizes = (p720: number, p1080: number): Record<string, FalSize> => ({
  '1280x720': { aspect_ratio: '16:9', resolution: '720p', pricePerSecond: p720 },
  '720x1280': { aspect_ratio: '9:16', resolution: '720p', pricePerSecond: p720 },
  // unconfirmed: the square output's pixel size at each resolution.
  '720x720': { aspect_ratio: '1:1', resolution: '720p', pricePerSecond: p720 },
  '1920x1080': { aspect_ratio: '16:9', resolution: '1080p', pricePerSecond: p1080 },
  '1080x1920': { aspect_ratio: '9:16', resolution: '1080p', pricePerSecond: p1080 },
  '1080x1080': { aspect_ratio: '1:1', resolution: '1080p', pricePerSecond: p1080 },
});

// Pika 2.2: $0.20 per 5 s at 720p, $0.45 at 1080p (providers.md). Prompt limit unconfirmed.
const pika = {
  seconds: [5, 10],
  durationFormat: 'integer',
  sizes: pikaSizes(0.04, 0.09),
  audio: 'none',
  promptMaxChars: 2000,
} as const;

const models: FalModel[] = [
  { id: 'fal-ai/pika/v2.2/text-to-video', mode: 't2v', ...pika },
  { id: 'fal-ai/pika/v2.2/image-to-video', mode: 'i2v', imageField: 'image_url', ...pika },
  {
    // Kling 2.6 Pro: duration "5" | "10" (a string), aspect 16:9 | 9:16 | 1:1, no resolution
    // field; $0.07/s with audio off, $0.14 with it (fal's page). The audio switch's name
    // `generate_audio`, the 1080p output and the prompt limit are unconfirmed.
    id: 'fal-ai/kling-video/v2.6/pro/text-to-video',
    mode: 't2v',
    seconds: [5, 10],
    durationFormat: 'string',
    sizes: {
      '1920x1080': { aspect_ratio: '16:9', pricePerSecond: 0.07 },
      '1080x1920': { aspect_ratio: '9:16', pricePerSecond: 0.07 },
      '1080x1080': { aspect_ratio: '1:1', pricePerSecond: 0.07 },
    },
    audio: 'optional',
    promptMaxChars: 2500,
    fixedInput: { generate_audio: false },
  },
  {
    // Veo 3.1: duration "4s" | "6s" | "8s", aspect 16:9 | 9:16, resolution 720p | 1080p | 4k,
    // generate_audio (default true); $0.20/s silent, $0.40 with audio at 720p/1080p (fal's
    // page). Prompt limit unconfirmed.
    id: 'fal-ai/veo3.1',
    mode: 't2v',
    seconds: [4, 6, 8],
    durationFormat: 'seconds_suffix',
    sizes: {
      '1280x720': { aspect_ratio: '16:9', resolution: '720p', pricePerSecond: 0.2 },
      '720x1280': { aspect_ratio: '9:16', resolution: '720p', pricePerSecond: 0.2 },
      '1920x1080': { aspect_ratio: '16:9', resolution: '1080p', pricePerSecond: 0.2 },
      '1080x1920': { aspect_ratio: '9:16', resolution: '1080p', pricePerSecond: 0.2 },
    },
    audio: 'optional',
    promptMaxChars: 2000,
    fixedInput: { generate_audio: false },
  },
  {
    // Wan 2.6: durations 5 | 10 | 15, resolution 720p | 1080p, aspect 16:9 | 9:16 | 1:1 | 4:3 |
    // 3:4 (fal's page). The duration's type, the price and the prompt limit are unconfirmed:
    // the price errs high so budgets stay on the safe side.
    id: 'wan/v2.6/text-to-video',
    mode: 't2v',
    seconds: [5, 10, 15],
    durationFormat: 'string',
    sizes: {
      '1280x720': { aspect_ratio: '16:9', resolution: '720p', pricePerSecond: 0.1 },
      '720x1280': { aspect_ratio: '9:16', resolution: '720p', pricePerSecond: 0.1 },
      '1920x1080': { aspect_ratio: '16:9', resolution: '1080p', pricePerSecond: 0.15 },
      '1080x1920': { aspect_ratio: '9:16', resolution: '1080p', pricePerSecond: 0.15 },
    },
    audio: 'none',
    promptMaxChars: 2000,
  },
];

export const falCatalog: FalCatalog = Object.fromEntries(models.map((m) => [m.id, m]));

export const FAL_DEFAULT_MODEL = 'fal-ai/pika/v2.2/text-to-video';

/** The shape `src/providers/catalog.ts` validates and prices with (`ModelSpec`). */
export function falModelSpecs(
  catalog: FalCatalog = falCatalog,
): Record<string, { seconds: readonly number[]; pricePerSecond: Record<string, number> }> {
  return Object.fromEntries(
    Object.values(catalog).map((m) => [
      m.id,
      {
        seconds: m.seconds,
        pricePerSecond: Object.fromEntries(
          Object.entries(m.sizes).map(([size, s]) => [size, s.pricePerSecond]),
        ),
      },
    ]),
  );
}

/** `owner/app`: the part of an endpoint id that status, result and cancel address. */
export function appOf(modelId: string): string {
  const [owner, app] = modelId.split('/');
  if (!owner || !app) throw new TypeError(`fal model id ${modelId} is not owner/app[/path]`);
  return `${owner}/${app}`;
}

function duration(seconds: number, format: DurationFormat): number | string {
  if (format === 'integer') return seconds;
  return format === 'string' ? String(seconds) : `${seconds}s`;
}

type InputProblem = { code: string; message: string };

/** The JSON body for one render, or why this model cannot make it. */
export function falInput(
  model: FalModel,
  spec: { prompt: string; seconds: number; size: string; imageUrl?: string | undefined },
): { input: Record<string, unknown> } | { problem: InputProblem } {
  const size = model.sizes[spec.size];
  if (!size) {
    const known = Object.keys(model.sizes).join(', ');
    return { problem: { code: 'unsupported_size', message: `${model.id} renders ${known}` } };
  }
  if (!model.seconds.includes(spec.seconds)) {
    const known = model.seconds.join(', ');
    return { problem: { code: 'unsupported_seconds', message: `${model.id} renders ${known} s` } };
  }
  if (spec.prompt.length > model.promptMaxChars) {
    return {
      problem: {
        code: 'prompt_too_long',
        message: `${model.id} takes prompts up to ${model.promptMaxChars} characters`,
      },
    };
  }
  const input: Record<string, unknown> = {
    prompt: spec.prompt,
    duration: duration(spec.seconds, model.durationFormat),
    aspect_ratio: size.aspect_ratio,
    ...(size.resolution ? { resolution: size.resolution } : {}),
    ...model.fixedInput,
  };
  if (model.mode === 'i2v') {
    if (!spec.imageUrl || !model.imageField) {
      return {
        problem: { code: 'image_required', message: `${model.id} needs a first-frame image` },
      };
    }
    input[model.imageField] = spec.imageUrl;
  }
  return { input };
}
