import { tmpdir } from 'node:os';
import { type AssembleOptions, assemble } from './assemble.ts';
import { type AudioFacts, probeAudio } from './audio-bed.ts';
import type { MediaBinaries } from './binaries.ts';
import { type CaptionsSpec, withCaptions } from './captions.ts';
import { type CompositeOptions, composite } from './composite.ts';
import {
  createRunner,
  DEFAULT_ENCODER,
  type EncoderSettings,
  inputArgs,
  type Runner,
} from './ffmpeg.ts';
import { createFontStack, type FontStack } from './fonts.ts';
import {
  type RenderCardOptions,
  renderCard,
  type ThumbnailOptions,
  thumbnail,
} from './local-render.ts';
import { type RenderMotionOptions, renderMotion } from './motion-render.ts';
import { type ProbeResult, probe } from './probe.ts';

export type { AssembleOptions } from './assemble.ts';
export { spotSeconds } from './assemble.ts';
export type { AudioBedSpec, AudioFacts, LoudnessMeasure } from './audio-bed.ts';
export type { CaptionFonts, MediaBinaries } from './binaries.ts';
export { DEFAULT_FONT_FAMILIES, defaultMediaBinaries } from './binaries.ts';
export type { CaptionLine, CaptionStyle, CaptionsSpec } from './captions.ts';
export type {
  CompositeOptions,
  LogoPosition,
  LogoSpec,
  Rect,
  TextSpec,
} from './composite.ts';
export { DEFAULT_LOGO_MARGIN_SHARE, DEFAULT_LOGO_WIDTH_SHARE, logoRect } from './composite.ts';
export type { EndCardSpec } from './end-card.ts';
export type {
  EncoderSettings,
  MediaErrorCode,
  Run,
  Runner,
  RunOptions,
  RunResult,
} from './ffmpeg.ts';
export { MediaError } from './ffmpeg.ts';
export type { FontStack } from './fonts.ts';
export type { FsStorageOptions } from './fs-storage.ts';
export { createFsStorage, FsStorage } from './fs-storage.ts';
export type { RenderCardOptions, ThumbnailOptions } from './local-render.ts';
export { colourFor } from './local-render.ts';
export type { RenderMotionOptions } from './motion-render.ts';
export type { ImageHeader, ProbeResult } from './probe.ts';
export { readImageHeader } from './probe.ts';
export { createS3Storage } from './s3-storage.ts';
export type {
  ByteRange,
  PutOptions,
  PutResult,
  Storage,
  StorageErrorCode,
} from './storage.ts';
export { isStorageKey, keyForSha256, StorageError } from './storage.ts';

export interface MediaDeps extends MediaBinaries {
  /** fontconfig's `fc-list`, which reads the caption fonts' coverage; from PATH by default. */
  fcListPath?: string | undefined;
  /** Told when font coverage cannot be read (then no glyph warnings are given). */
  onFontCoverageError?: ((err: unknown) => void) | undefined;
  /** Where caption (ASS) files go while ffmpeg runs; the OS temp dir by default. */
  tmpDir?: string | undefined;
  /** Per ffmpeg run; 10 minutes by default. */
  timeoutMs?: number | undefined;
  /** Per ffprobe run; 30 seconds by default. */
  probeTimeoutMs?: number | undefined;
  /**
   * x264 settings. Output bytes depend on all three (threads included), so keep them
   * fixed across machines that share a store if renders should deduplicate.
   */
  encoder?: Partial<EncoderSettings> | undefined;
}

export interface Media {
  probe(file: string, opts?: { signal?: AbortSignal | undefined }): Promise<ProbeResult>;
  /** An audio file's length and codec (probe() needs a picture stream). */
  probeAudio(file: string, opts?: { signal?: AbortSignal | undefined }): Promise<AudioFacts>;
  /** Renders the local provider's title card; resolves with the probe of the result. */
  renderCard(opts: RenderCardOptions): Promise<ProbeResult>;
  /**
   * Renders the local provider's motion template (product image with a slow push-in, key
   * message and call to action animated in); resolves with the probe of the result.
   */
  renderMotion(opts: RenderMotionOptions): Promise<ProbeResult>;
  /** Writes a JPEG frame from early in the clip. */
  thumbnail(input: string, out: string, opts?: ThumbnailOptions): Promise<void>;
  /** Burns logo and text into a video; resolves with the probe of the result. */
  composite(opts: CompositeOptions): Promise<ProbeResult>;
  /**
   * Joins a spot's shots (normalised, cut or crossfaded), then its end card and audio bed;
   * resolves with the probe.
   */
  assemble(opts: AssembleOptions): Promise<ProbeResult>;
  /**
   * Decodes every frame of an untrusted file, so a truncated or corrupt upload is refused when
   * it arrives rather than failing a composite later.
   */
  decodeCheck(
    file: string,
    opts?: { signal?: AbortSignal | undefined; maxPixels?: number | undefined },
  ): Promise<void>;
  /**
   * Characters of `text` that no caption font covers (drawn as empty boxes or nothing), in
   * order, each once. The coverage table is built on first call and kept.
   */
  missingGlyphs(text: string): Promise<string[]>;
  /**
   * For renderers of their own (end cards, templates): writes the captions' ASS file and hands
   * `use` the filter that draws them (null without lines) and the env to pass to that ffmpeg run
   * (`runner.ffmpeg(args, { env })`), so text goes through the same fonts, shaping and escaping.
   */
  withCaptions<T>(
    p: CaptionsSpec,
    use: (filter: string | null, env: Record<string, string>) => Promise<T>,
  ): Promise<T>;
  fonts: FontStack;
  /** Raw access for anything the helpers above do not cover. */
  runner: Runner;
}

export function createMedia(deps: MediaDeps): Media {
  const runner = createRunner(deps);
  const fonts = createFontStack(deps.fonts, {
    fcListPath: deps.fcListPath,
    onCoverageError: deps.onFontCoverageError,
  });
  const ctx = {
    runner,
    fonts,
    tmpDir: deps.tmpDir ?? tmpdir(),
    encoder: {
      preset: deps.encoder?.preset ?? DEFAULT_ENCODER.preset,
      crf: deps.encoder?.crf ?? DEFAULT_ENCODER.crf,
      threads: deps.encoder?.threads ?? DEFAULT_ENCODER.threads,
    },
  };
  return {
    probe: (file, opts) => probe(runner.ffprobe, file, opts),
    probeAudio: (file, opts) => probeAudio(runner.ffprobe, file, opts),
    renderCard: (opts) => renderCard(ctx, opts),
    renderMotion: (opts) => renderMotion(ctx, opts),
    thumbnail: (input, out, opts) => thumbnail(ctx, input, out, opts),
    composite: (opts) => composite(ctx, opts),
    assemble: (opts) => assemble(ctx, opts),
    async decodeCheck(file, opts) {
      // max_pixels makes the decoder refuse a frame larger than that, whatever the header said.
      const cap = opts?.maxPixels ? ['-max_pixels', String(opts.maxPixels)] : [];
      await runner.ffmpeg(['-xerror', ...cap, ...inputArgs(file), '-f', 'null', '-'], {
        timeoutMs: 60_000,
        signal: opts?.signal,
      });
    },
    missingGlyphs: (text) => fonts.missingGlyphs(text),
    withCaptions: (p, use) => withCaptions(ctx, p, use),
    fonts,
    runner,
  };
}
