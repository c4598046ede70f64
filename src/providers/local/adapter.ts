import { randomUUID } from 'node:crypto';
import { access, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { colourFor, type Media, MediaError } from '../../media/index.ts';
import {
  type CallOptions,
  type DownloadVariant,
  type FindExistingOptions,
  ProviderError,
  type ProviderStatus,
  type RenderSpec,
  type VideoProvider,
} from '../types.ts';

interface LocalProviderOptions {
  media: Media;
  /** Renders go to `<workDir>/local/<variantId>.mp4|.jpg`; every worker must see the same dir. */
  workDir: string;
}

const JOB_PREFIX = 'local_';
/** The plain title card; every other model of the catalog is the motion template. */
const CARD_MODEL = 'card-v1';
/** Ids become file names, so nothing that could walk out of the directory gets through. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const SIZE = /^(\d{1,4})x(\d{1,4})$/;

// Function words and the filler every video prompt carries; what is left says what the card is.
const STOP_WORDS = new Set(
  (
    'a an and are as at be but by for from has have in into is it its of on onto or over so than ' +
    'that the their them then there these this those to under up upon was were while who whom ' +
    'will with without within we you your our us he she they his her i me my not no do does ' +
    'did can could should would may might very just also about above after again all any each ' +
    'more most other some such only own same too out off down through during before between ' +
    'video clip shot shots scene scenes showing shows show featuring feature cinematic style ' +
    'footage frame frames camera seconds second'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu;

/**
 * Up to `max` words that carry the prompt's meaning, in order, without repeats. The `Avoid: …`
 * line (negative guidance appended by the prompt builder) is left out: drawing the things a
 * variant must not show would say the opposite of what it is.
 */
export function keyWords(prompt: string, max = 6): string[] {
  const text = prompt
    .split(/\r?\n/)
    .filter((line) => !/^\s*avoid\s*:/i.test(line))
    .join(' ');
  const seen = new Set<string>();
  const words: string[] = [];
  for (const match of text.matchAll(WORD)) {
    const word = match[0].replace(/['’-]+$/, '');
    const key = word.toLowerCase();
    if (word.length < 2 || STOP_WORDS.has(key) || seen.has(key)) continue;
    seen.add(key);
    words.push(word);
    if (words.length >= max) break;
  }
  return words;
}

function permanent(code: string, message: string, cause?: unknown): ProviderError {
  return new ProviderError(message, { kind: 'permanent', code, cause });
}

function parseSize(size: string): { width: number; height: number } {
  const m = SIZE.exec(size);
  if (!m) throw permanent('invalid_size', `size must be WxH, got ${JSON.stringify(size)}`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function requireVariantId(variantId: string): string {
  if (!SAFE_ID.test(variantId)) {
    throw permanent('invalid_variant_id', `unusable variant id ${JSON.stringify(variantId)}`);
  }
  return variantId;
}

function variantOf(jobId: string): string {
  const id = jobId.startsWith(JOB_PREFIX) ? jobId.slice(JOB_PREFIX.length) : '';
  if (!SAFE_ID.test(id)) throw permanent('invalid_job_id', `not a local job id: ${jobId}`);
  return id;
}

function fromMediaError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof MediaError) {
    // Bad input stays bad; anything else (a killed or timed-out ffmpeg) may pass next time.
    if (err.code === 'INVALID_INPUT') return permanent('invalid_input', err.message, err);
    return new ProviderError(err.message, {
      kind: 'transient',
      code: err.code === 'ABORTED' ? 'aborted' : `render_${err.code.toLowerCase()}`,
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError(message, { kind: 'transient', code: 'render_failed', cause: err });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export function createLocalProvider({ media, workDir }: LocalProviderOptions): VideoProvider {
  const dir = join(workDir, 'local');
  const videoPath = (variantId: string) => join(dir, `${variantId}.mp4`);
  const thumbnailPath = (variantId: string) => join(dir, `${variantId}.jpg`);
  // Two deliveries of the same job in one process share one render instead of racing.
  const inFlight = new Map<string, Promise<void>>();

  async function render(variantId: string, spec: RenderSpec, signal?: AbortSignal): Promise<void> {
    const { width, height } = parseSize(spec.size);
    const captions = spec.captions?.filter((c) => c.trim() !== '') ?? [];
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${variantId}.${randomUUID()}.render.mp4`);
    const image = spec.image ? join(dir, `.${variantId}.${randomUUID()}.image`) : undefined;
    const backdrop = spec.backgroundImage
      ? join(dir, `.${variantId}.${randomUUID()}.background`)
      : undefined;
    try {
      const common = { out: tmp, width, height, seconds: spec.seconds, signal };
      const background = spec.background ?? colourFor(spec.prompt);
      if (spec.model === CARD_MODEL) {
        const lines = captions.length > 0 ? captions : keyWords(spec.prompt);
        await media.renderCard({ ...common, background, lines });
      } else {
        if (image && spec.image) await writeFile(image, spec.image.bytes);
        if (backdrop && spec.backgroundImage) await writeFile(backdrop, spec.backgroundImage.bytes);
        await media.renderMotion({
          ...common,
          background,
          image,
          kicker: captions.join(' · '),
          headline: spec.keyMessage?.trim() || keyWords(spec.prompt).join(' '),
          cta: spec.callToAction,
          // The camera move follows from what is drawn, so equal inputs give equal bytes.
          backgroundImage: backdrop,
          seed: `${spec.prompt}\n${background}${spec.backgroundImage ? `\n${spec.backgroundImage.sha256}` : ''}`,
        });
      }
      await media.thumbnail(tmp, thumbnailPath(variantId), { signal });
      // The MP4 appears last, so "the MP4 exists" means the whole render, thumbnail included.
      await rename(tmp, videoPath(variantId));
    } catch (err) {
      throw fromMediaError(err);
    } finally {
      await rm(tmp, { force: true });
      if (image) await rm(image, { force: true });
      if (backdrop) await rm(backdrop, { force: true });
    }
  }

  async function submit(spec: RenderSpec, opts: CallOptions = {}): Promise<{ jobId: string }> {
    const variantId = requireVariantId(spec.variantId);
    const jobId = JOB_PREFIX + variantId;
    // Renders are free, but a re-submit after a crash should still not redo finished work.
    if (await exists(videoPath(variantId))) return { jobId };
    let running = inFlight.get(variantId);
    if (!running) {
      running = render(variantId, spec, opts.signal).finally(() => inFlight.delete(variantId));
      inFlight.set(variantId, running);
    }
    await running;
    return { jobId };
  }

  async function findExisting(
    spec: RenderSpec,
    { exclude }: FindExistingOptions,
  ): Promise<{ jobId: string } | null> {
    // The job id follows from the variant, so `since` does not matter: the file is the record.
    const variantId = requireVariantId(spec.variantId);
    const jobId = JOB_PREFIX + variantId;
    if (exclude?.has(jobId)) return null;
    return (await exists(videoPath(variantId))) ? { jobId } : null;
  }

  async function status(jobId: string): Promise<ProviderStatus> {
    const variantId = variantOf(jobId);
    if (await exists(videoPath(variantId))) return { state: 'completed', progress: 100 };
    if (inFlight.has(variantId)) return { state: 'in_progress', progress: 0 };
    // submit only hands out an id once the file is there, so a missing file was deleted or
    // lives on another machine's workDir. Re-submitting is free and safe for this provider.
    return {
      state: 'failed',
      progress: 0,
      error: {
        code: 'not_found',
        message: `no local render for ${variantId} in ${dir} (deleted, or workDir not shared)`,
      },
    };
  }

  async function download(
    jobId: string,
    what: DownloadVariant,
    opts: CallOptions = {},
  ): Promise<Readable> {
    const variantId = variantOf(jobId);
    const path = what === 'video' ? videoPath(variantId) : thumbnailPath(variantId);
    // Opening first makes a missing file a rejected promise, not a later 'error' event.
    const handle = await open(path, 'r').catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw permanent('not_found', `no local ${what} for ${variantId}`, err);
      }
      throw new ProviderError(`cannot read local ${what} for ${variantId}`, {
        kind: 'transient',
        code: 'io_error',
        cause: err,
      });
    });
    const stream = handle.createReadStream();
    return opts.signal ? addAbortSignal(opts.signal, stream) : stream;
  }

  return {
    name: 'local',
    searchable: true,
    // The motion template puts the campaign's product image on screen; the card draws text only.
    takesImage: (model: string) => model !== CARD_MODEL,
    drawsBackground: true,
    submit,
    findExisting,
    status,
    download,
  };
}
