import { fitFilter } from './assemble.ts';
import {
  type CaptionContext,
  charsThatFit,
  lineHeightFor,
  withCaptions,
  wrapCaptions,
} from './captions.ts';
import { type DisclosureSpec, disclosureLines, type ReservedEdges } from './disclosure.ts';
import { type EncoderSettings, encodeMp4, inputArgs, MediaError, type Runner } from './ffmpeg.ts';
import { type ProbeResult, probe } from './probe.ts';

interface CompositeContext extends CaptionContext {
  runner: Runner;
  encoder: EncoderSettings;
}

export type LogoPosition = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

export interface LogoSpec {
  /** PNG (alpha respected) or any image ffmpeg decodes. */
  path: string;
  position: LogoPosition;
  /** Logo width as a share of the video width. */
  widthShare?: number;
  /** Gap to the frame edges as a share of the video width, used on both axes. */
  marginShare?: number;
}

export interface TextSpec {
  lines: readonly string[];
  /** Horizontally centred either way, on a translucent band. */
  position?: 'bottom' | 'top';
  /** Font size as a share of the video's shorter side. */
  sizeShare?: number;
  /** Most lines kept after wrapping; the last kept one ends in an ellipsis. */
  maxLines?: number;
}

export interface CompositeOptions {
  input: string;
  out: string;
  /**
   * A rendition's frame: the input is first fitted to it (the spot assembly's crop-or-pad
   * rule), then text and logo are laid out for this frame, so nothing of them is cropped off.
   */
  size?: { width: number; height: number } | undefined;
  /** null/undefined: no partner, no overlay. */
  logo?: LogoSpec | null | undefined;
  text?: TextSpec | null | undefined;
  /**
   * Seconds into the input after which the band, its text and the logo are not drawn (a spot's
   * end card, which carries its own logo and text); the whole input when unset. The AI label
   * is not stopped here: it stays for its own `seconds`, over the end card too.
   */
  until?: number | undefined;
  /** A visible AI label in a corner (src/provenance/disclosure.ts). */
  disclosure?: DisclosureSpec | null | undefined;
  signal?: AbortSignal | undefined;
}

export const DEFAULT_LOGO_WIDTH_SHARE = 0.18;
export const DEFAULT_LOGO_MARGIN_SHARE = 0.04;
const MAX_LOGO_HEIGHT_SHARE = 0.4;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const MP4_AUDIO = new Set(['aac', 'mp3', 'ac3', 'eac3', 'opus', 'alac', 'flac']);

function copyableAudio(codec: string | null): boolean {
  return codec === null || MP4_AUDIO.has(codec);
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

function share(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || v > 1) {
    throw new MediaError(`${name} must be within 0..1, got ${v}`, { code: 'INVALID_INPUT' });
  }
  return v;
}

/**
 * Where the logo lands. Exported so callers and tests agree on the geometry. `reserved`
 * keeps the logo clear of a text band along that edge.
 */
export function logoRect(
  video: { width: number; height: number },
  logo: { width: number; height: number },
  spec: Pick<LogoSpec, 'position' | 'widthShare' | 'marginShare'>,
  reserved: { top: number; bottom: number } = { top: 0, bottom: 0 },
): Rect {
  const widthShare = share(spec.widthShare, DEFAULT_LOGO_WIDTH_SHARE, 'logo.widthShare');
  const margin = Math.round(
    video.width * share(spec.marginShare, DEFAULT_LOGO_MARGIN_SHARE, 'logo.marginShare'),
  );
  let w = even(video.width * widthShare);
  let h = even((w * logo.height) / logo.width);
  const maxH = video.height * MAX_LOGO_HEIGHT_SHARE;
  if (h > maxH) {
    // A tall logo at the requested width would swallow the frame; shrink it to fit instead.
    w = even((w * maxH) / h);
    h = even((w * logo.height) / logo.width);
  }
  const left = spec.position.endsWith('left');
  const top = spec.position.startsWith('top');
  return {
    x: left ? margin : video.width - w - margin,
    y: top ? margin + reserved.top : video.height - h - margin - reserved.bottom,
    w,
    h,
  };
}

/**
 * What the label keeps clear of: the text band, and a logo in its own corner (drawn over the
 * label otherwise), whose far edge it then stacks beyond.
 */
function disclosureReserve(band: ReservedEdges, logo: Rect | null, H: number): ReservedEdges {
  if (!logo) return band;
  const top = logo.y < H / 2;
  return top ? { ...band, top: logo.y + logo.h } : { ...band, bottom: H - logo.y };
}

export async function composite(
  ctx: CompositeContext,
  opts: CompositeOptions,
): Promise<ProbeResult> {
  const { runner } = ctx;
  const video = await probe(runner.ffprobe, opts.input, { signal: opts.signal });
  const logoInfo = opts.logo
    ? await probe(runner.ffprobe, opts.logo.path, { signal: opts.signal })
    : null;
  const { width: W, height: H } = opts.size ?? video;

  const text = opts.text;
  const fontsize = Math.max(
    10,
    Math.round(Math.min(W, H) * share(text?.sizeShare, 0.04, 'text.sizeShare')),
  );
  const lineHeight = lineHeightFor(fontsize);
  const lines = text
    ? wrapCaptions(text.lines, charsThatFit(W * 0.9, fontsize), text.maxLines ?? 4)
    : [];
  const padding = Math.round(fontsize * 0.6);
  const bandHeight = lines.length > 0 ? lines.length * lineHeight + 2 * padding : 0;
  const bandTop = text?.position === 'top' ? 0 : H - bandHeight;
  const band: ReservedEdges =
    bandHeight === 0
      ? { top: 0, bottom: 0 }
      : text?.position === 'top'
        ? { top: bandHeight, bottom: 0 }
        : { top: 0, bottom: bandHeight };
  const logo =
    opts.logo && logoInfo ? logoRect({ width: W, height: H }, logoInfo, opts.logo, band) : null;

  const captions = {
    width: W,
    height: H,
    lines: [
      ...lines.map((text, i) => ({
        text,
        y: bandTop + padding + i * lineHeight,
        ...(opts.until === undefined ? {} : { until: opts.until }),
      })),
      ...(opts.disclosure
        ? disclosureLines(
            opts.disclosure,
            W,
            H,
            disclosureReserve(
              band,
              opts.logo?.position === opts.disclosure.position ? logo : null,
              H,
            ),
          )
        : []),
    ],
    style: { fontsize, color: 'ffffff' },
  };
  return withCaptions(ctx, captions, async (drawText, env) => {
    const graph: string[] = [];
    let current = '[0:v]';
    if (opts.size) {
      graph.push(`${current}${fitFilter(video, W, H)},setsar=1[fit]`);
      current = '[fit]';
    }
    const until = opts.until;
    if (until !== undefined) {
      graph.push(`${current}split=2[head][tail]`);
      graph.push(`[head]trim=end=${until},setpts=PTS-STARTPTS[drawn]`);
      graph.push(`[tail]trim=start=${until},setpts=PTS-STARTPTS,format=yuv420p[rest]`);
      current = '[drawn]';
    }
    const bandBox = `drawbox=x=0:y=${bandTop}:w=iw:h=${bandHeight}:color=black@0.55:t=fill`;
    if (until !== undefined && bandHeight) {
      graph.push(`${current}${bandBox}[boxed]`);
      current = '[boxed]';
    }
    if (drawText && until === undefined) {
      // drawbox reads h=0 as the whole frame: no band when only the disclosure is drawn.
      graph.push(`${current}${bandHeight ? `${bandBox},` : ''}${drawText}[txt]`);
      current = '[txt]';
    }
    if (logo) {
      // rgba before scaling so the PNG's transparency survives into overlay's blend.
      graph.push(`[1:v]format=rgba,scale=${logo.w}:${logo.h}:flags=lanczos[logo]`);
      graph.push(`${current}[logo]overlay=x=${logo.x}:y=${logo.y}:eof_action=repeat[ov]`);
      current = '[ov]';
    }
    // x264 cannot store yuv420p at odd sizes; drop the odd row/column rather than fail.
    const evenCrop = W % 2 || H % 2 ? 'crop=trunc(iw/2)*2:trunc(ih/2)*2,' : '';
    if (until !== undefined) {
      // Text goes on after the end card is joined: the band's lines end at `until` (their ASS
      // end time), the AI label runs on over the card for its own seconds, the whole video by
      // default. It sits above where the band was, clear of the card's smaller legal lines.
      graph.push(`${current}format=yuv420p[head2]`);
      graph.push(
        `[head2][rest]concat=n=2:v=1:a=0,${drawText ? `${drawText},` : ''}${evenCrop}format=yuv420p[v]`,
      );
    } else graph.push(`${current}${evenCrop}format=yuv420p[v]`);

    await encodeMp4(
      ctx,
      opts.out,
      [
        ...inputArgs(opts.input),
        ...(opts.logo ? inputArgs(opts.logo.path) : []),
        '-filter_complex',
        graph.join(';'),
        '-map',
        '[v]',
        // `?`: footage without sound is fine. Audio is copied bit for bit when MP4 can
        // hold it; anything else (PCM from a .mov, say) is re-encoded to AAC.
        '-map',
        '0:a?',
        ...(copyableAudio(video.audio_codec) ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '160k']),
        '-flags:a',
        '+bitexact',
        // No -vsync/-fps_mode: ffmpeg <5.1 lacks the latter and 9 dropped the former. The
        // mp4 default (cfr at the source's rate) passes constant-rate footage through 1:1.
      ],
      { signal: opts.signal, env },
    );
    return probe(runner.ffprobe, opts.out, { signal: opts.signal });
  });
}
