import { createHash } from 'node:crypto';
import {
  type CaptionContext,
  charsThatFit,
  lineHeightFor,
  withCaptions,
  wrapCaptions,
} from './captions.ts';
import {
  type EncoderSettings,
  fileArg,
  h264Args,
  inputArgs,
  MediaError,
  mp4MuxArgs,
  type Runner,
  writeAtomically,
} from './ffmpeg.ts';
import { type ProbeResult, probe } from './probe.ts';

interface RenderContext extends CaptionContext {
  runner: Runner;
  encoder: EncoderSettings;
}

export interface RenderCardOptions {
  out: string;
  width: number;
  height: number;
  seconds: number;
  /** `#rrggbb` or `rrggbb`. */
  background: string;
  /** Captions, one per line; long ones are wrapped, too many are cut with an ellipsis. */
  lines: readonly string[];
  fps?: number;
  signal?: AbortSignal | undefined;
}

const HEX = /^#?([0-9a-f]{6})$/i;

export function parseHexColour(value: string): string {
  const match = HEX.exec(value.trim());
  if (!match?.[1]) {
    throw new MediaError(`not a #rrggbb colour: ${JSON.stringify(value)}`, {
      code: 'INVALID_INPUT',
    });
  }
  return match[1].toLowerCase();
}

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/**
 * A stable colour per level key, so the same level looks the same in every variant.
 * Saturation and lightness stay in a mid band: never neon, never muddy, and dark enough
 * for white captions.
 */
export function colourFor(key: string): string {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  const hue = digest.readUInt16BE(0) % 360;
  const saturation = 0.45 + (digest[2]! / 255) * 0.2;
  const lightness = 0.32 + (digest[3]! / 255) * 0.1;
  return hslToHex(hue, saturation, lightness);
}

/** Rec. 709 luma; picks dark captions for light backgrounds a caller may pass. */
export function isLight(hex: string): boolean {
  const n = Number.parseInt(hex, 16);
  const luma = 0.2126 * ((n >> 16) & 255) + 0.7152 * ((n >> 8) & 255) + 0.0722 * (n & 255);
  return luma > 160;
}

export function requireEvenSize(width: number, height: number): void {
  const ok = (n: number) => Number.isInteger(n) && n >= 16 && n <= 4096 && n % 2 === 0;
  if (!ok(width) || !ok(height)) {
    // yuv420p halves chroma in both directions, so x264 rejects odd sizes.
    throw new MediaError(`size must be even integers in 16..4096, got ${width}x${height}`, {
      code: 'INVALID_INPUT',
    });
  }
}

/** Formats seconds for the command line without exponent notation. */
export function secondsArg(seconds: number): string {
  return seconds.toFixed(3).replace(/\.?0+$/, '');
}

export async function renderCard(
  ctx: RenderContext,
  opts: RenderCardOptions,
): Promise<ProbeResult> {
  const { width, height, seconds } = opts;
  requireEvenSize(width, height);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 600) {
    throw new MediaError(`seconds must be within 0.1..600, got ${seconds}`, {
      code: 'INVALID_INPUT',
    });
  }
  const fps = opts.fps ?? 25;
  if (!Number.isInteger(fps) || fps < 1 || fps > 60) {
    throw new MediaError(`fps must be an integer within 1..60, got ${fps}`, {
      code: 'INVALID_INPUT',
    });
  }
  const background = parseHexColour(opts.background);
  const textColour = isLight(background) ? '111111' : 'ffffff';

  const fontsize = Math.max(10, Math.round(Math.min(width, height) * 0.065));
  const lineHeight = lineHeightFor(fontsize);
  const maxLines = Math.max(1, Math.floor((height * 0.8) / lineHeight));
  const wrapped = wrapCaptions(opts.lines, charsThatFit(width * 0.88, fontsize), maxLines);
  const top = Math.round((height - wrapped.length * lineHeight) / 2);
  const duration = secondsArg(seconds);
  const barHeight = Math.max(2, Math.round(height / 120));

  const captions = {
    width,
    height,
    lines: wrapped.map((text, i) => ({ text, y: top + i * lineHeight })),
    style: { fontsize, color: textColour, outline: Math.round(fontsize / 16) },
  };
  return withCaptions(ctx, captions, async (text, env) => {
    // A bar sweeping along the bottom: the clip has motion, and a frame's time is visible.
    const graph = [
      `[0:v]${text ?? 'null'}[card]`,
      `color=c=0x${textColour}:s=${width}x${barHeight}:r=${fps}:d=${duration}[bar]`,
      `[card][bar]overlay=x=-w+W*t/${duration}:y=H-h:eval=frame:shortest=1,format=yuv420p[v]`,
    ].join(';');

    await writeAtomically(opts.out, (tmp) =>
      ctx.runner.ffmpeg(
        [
          '-f',
          'lavfi',
          '-i',
          `color=c=0x${background}:s=${width}x${height}:r=${fps}:d=${duration}`,
          '-f',
          'lavfi',
          '-i',
          'anullsrc=r=48000:cl=stereo',
          '-filter_complex',
          graph,
          '-map',
          '[v]',
          '-map',
          '1:a',
          '-t',
          duration,
          ...h264Args(ctx.encoder),
          '-c:a',
          'aac',
          '-b:a',
          '64k',
          '-flags:a',
          '+bitexact',
          ...mp4MuxArgs(),
          '-y',
          fileArg(tmp),
        ],
        { signal: opts.signal, env },
      ),
    );
    return probe(ctx.runner.ffprobe, opts.out, { signal: opts.signal });
  });
}

export interface ThumbnailOptions {
  /** Where to grab the frame; defaults to 1 s (or mid-clip for shorter clips). */
  atSeconds?: number;
  /** Scale to this width, keeping aspect; defaults to the video's own size. */
  width?: number;
  signal?: AbortSignal | undefined;
}

export async function thumbnail(
  ctx: Pick<RenderContext, 'runner'>,
  input: string,
  out: string,
  opts: ThumbnailOptions = {},
): Promise<void> {
  const info = await probe(ctx.runner.ffprobe, input, { signal: opts.signal });
  // Seeking to or past the end yields no frame and an empty file, so stay inside the clip.
  const wanted = opts.atSeconds ?? 1;
  const at = info.duration_s > 0 ? Math.min(wanted, info.duration_s / 2) : 0;
  const scale = opts.width ? ['-vf', `scale=${Math.round(opts.width / 2) * 2}:-2`] : [];
  await writeAtomically(out, (tmp) =>
    ctx.runner.ffmpeg(
      [
        '-ss',
        secondsArg(at),
        ...inputArgs(input),
        '-frames:v',
        '1',
        ...scale,
        '-q:v',
        '3',
        '-flags:v',
        '+bitexact',
        '-fflags',
        '+bitexact',
        // The mjpeg muxer writes one bare JPEG; image2 would treat `%` in the name as a pattern.
        '-f',
        'mjpeg',
        '-y',
        fileArg(tmp),
      ],
      { signal: opts.signal },
    ),
  );
}
