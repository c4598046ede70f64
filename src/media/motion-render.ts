import { createHash } from 'node:crypto';
import {
  type CaptionContext,
  type CaptionLine,
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
import { isLight, parseHexColour, requireEvenSize, secondsArg } from './local-render.ts';
import { type ProbeResult, probe } from './probe.ts';

interface RenderContext extends CaptionContext {
  runner: Runner;
  encoder: EncoderSettings;
}

export interface RenderMotionOptions {
  out: string;
  width: number;
  height: number;
  seconds: number;
  /** `#rrggbb`: the top of the background gradient (the bottom is a darker shade of it). */
  background: string;
  /** The product image (an uploaded asset: PNG, JPEG or WebP); absent, the palette alone. */
  image?: string | undefined;
  /**
   * The level's background image (an uploaded asset), covering the frame in place of the
   * gradient; `background` still picks the text colours.
   */
  backgroundImage?: string | undefined;
  /** Small line above the headline (the variant's level labels). */
  kicker?: string | undefined;
  /** The key message. */
  headline?: string | undefined;
  /** The call to action, drawn as a button. */
  cta?: string | undefined;
  /** Picks the camera move, so the same inputs always move the same way. */
  seed: string;
  fps?: number;
  signal?: AbortSignal | undefined;
}

/** Most the camera pushes in over a shot: slow enough to read as a Ken Burns, not a zoom. */
const ZOOM = 0.08;
/** The still is built this much larger than the frame, so the push-in keeps its detail. */
const OVERSCAN = 1 + ZOOM + 0.02;

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** `rrggbb` scaled towards black: the gradient's lower end, where the text sits. */
function shade(hex: string, factor: number): string {
  const n = Number.parseInt(hex, 16);
  return [16, 8, 0]
    .map((s) =>
      Math.round(((n >> s) & 255) * factor)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('');
}

/** geq's per-channel expressions for a top-to-bottom blend of two `rrggbb` colours. */
function gradient(top: string, bottom: string): string {
  const channel = (hex: string, i: number) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return ['r', 'g', 'b']
    .map((c, i) => {
      const a = channel(top, i);
      const b = channel(bottom, i);
      return `${c}='${a}+(${b - a})*Y/(H-1)'`;
    })
    .join(':');
}

/** Two numbers in 0.2..0.8 per axis from the seed: where the pan starts and ends. */
function panOf(seed: string): { x0: number; x1: number; y0: number; y1: number } {
  const d = createHash('sha256').update(seed, 'utf8').digest();
  const at = (i: number) => 0.2 + (d[i]! / 255) * 0.6;
  return { x0: at(0), x1: at(1), y0: at(2), y1: at(3) };
}

interface Layout {
  /** The product's box on the still (overscanned) frame: centre and size. */
  product: { cx: number; cy: number; w: number; h: number };
  /** The text column on the output frame. */
  column: { cx: number; width: number };
  /** Where the text block is vertically centred, as a share of the height. */
  textCentre: number;
}

/**
 * Portrait and square: product above, text below (the bottom tenth stays free for the
 * overlay's city/legal band). Landscape: product left, text right. No product: text centred.
 */
function layoutFor(W: number, H: number, sw: number, sh: number, hasImage: boolean): Layout {
  if (W > H) {
    return {
      product: { cx: sw * 0.28, cy: sh * 0.5, w: sw * 0.44, h: sh * 0.74 },
      column: { cx: W * 0.75, width: W * 0.42 },
      textCentre: 0.5,
    };
  }
  return {
    product: { cx: sw / 2, cy: sh * 0.33, w: sw * 0.78, h: sh * (W === H ? 0.4 : 0.44) },
    column: { cx: W / 2, width: W * 0.86 },
    textCentre: hasImage ? (W === H ? 0.74 : 0.71) : 0.45,
  };
}

/** Kicker, headline and CTA, stacked and centred on the layout's text centre, with entrances. */
function textLines(
  o: RenderMotionOptions,
  layout: Layout,
  colours: { text: string; button: string; buttonText: string },
): CaptionLine[] {
  const { width: W, height: H } = o;
  const m = Math.min(W, H);
  // Everything has entered by 0.95 s of a 4 s shot (thumbnails are taken at 1 s); shorter
  // shots run the same entrances faster.
  const k = Math.min(1, o.seconds / 4);
  const x = layout.column.cx;
  const charsPerLine = (fs: number) => charsThatFit(layout.column.width, fs);
  const blocks: { lines: string[]; fs: number; pitch: number; kind: string }[] = [];
  const add = (text: string | undefined, fs: number, maxLines: number, kind: string) => {
    const lines = text?.trim() ? wrapCaptions([text], charsPerLine(fs), maxLines) : [];
    if (lines.length) blocks.push({ lines, fs, pitch: lineHeightFor(fs), kind });
  };
  add(o.kicker, Math.round(m * 0.034), 1, 'kicker');
  add(o.headline, Math.round(m * 0.062), 3, 'headline');
  add(o.cta, Math.round(m * 0.042), 1, 'cta');

  const gap = Math.round(m * 0.03);
  const height = (b: (typeof blocks)[number]) =>
    b.lines.length * b.pitch + (b.kind === 'cta' ? Math.round(b.fs * 0.8) : 0);
  const total = blocks.reduce((sum, b) => sum + height(b), 0) + gap * (blocks.length - 1);
  let y = Math.round(Math.max(0, H * layout.textCentre - total / 2));
  const out: CaptionLine[] = [];
  for (const b of blocks) {
    b.lines.forEach((text, i) => {
      const line: CaptionLine = { text, x, y: y + i * b.pitch, fontsize: b.fs };
      if (b.kind === 'kicker') line.enter = { at: 0.1 * k, fade: 0.35 * k };
      if (b.kind === 'headline') {
        line.bold = true;
        line.enter = { at: (0.2 + 0.1 * i) * k, fade: 0.45 * k, slide: Math.round(H * 0.025) };
      }
      if (b.kind === 'cta') {
        line.y += Math.round(b.fs * 0.4);
        line.color = colours.buttonText;
        line.box = { color: colours.button, padding: Math.round(b.fs * 0.4) };
        line.enter = { at: 0.6 * k, fade: 0.3 * k };
      }
      out.push(line);
    });
    y += height(b) + gap;
  }
  return out;
}

/**
 * The local provider's motion template: a per-level background (the level's image, else a
 * gradient of its palette) with the product on it, built
 * once as a still larger than the frame, then a slow push-in and pan over it (a bilinear scale
 * per frame plus a moving crop: a little cheaper than zoompan, whose integer crop also jitters;
 * bench/local-render.ts measures both), with the key
 * message and the call to action animated in through libass. The logo is not drawn: the
 * composite step burns it in for every provider.
 */
export async function renderMotion(
  ctx: RenderContext,
  o: RenderMotionOptions,
): Promise<ProbeResult> {
  const { width: W, height: H, seconds } = o;
  requireEvenSize(W, H);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 600) {
    throw new MediaError(`seconds must be within 0.1..600, got ${seconds}`, {
      code: 'INVALID_INPUT',
    });
  }
  const fps = o.fps ?? 25;
  if (!Number.isInteger(fps) || fps < 1 || fps > 60) {
    throw new MediaError(`fps must be an integer within 1..60, got ${fps}`, {
      code: 'INVALID_INPUT',
    });
  }
  const top = parseHexColour(o.background);
  const bottom = shade(top, 0.45);
  const light = isLight(shade(top, 0.72));
  const colours = {
    text: light ? '111111' : 'ffffff',
    button: light ? '111111' : 'ffffff',
    buttonText: light ? top : bottom,
  };
  const frames = Math.max(1, Math.round(seconds * fps));
  const last = Math.max(1, frames - 1);
  const sw = even(W * OVERSCAN);
  const sh = even(H * OVERSCAN);
  const layout = layoutFor(W, H, sw, sh, Boolean(o.image));
  const pan = panOf(o.seed);
  const duration = secondsArg(seconds);

  const captions = {
    width: W,
    height: H,
    lines: textLines(o, layout, colours),
    style: {
      fontsize: Math.round(Math.min(W, H) * 0.05),
      color: colours.text,
      outline: Math.max(1, Math.round(Math.min(W, H) / 400)),
    },
  };
  return withCaptions(ctx, captions, async (text, env) => {
    // Inputs: 0 the silent track, then the product image, then the background image.
    const backgroundInput = o.image ? 2 : 1;
    const graph = [
      o.backgroundImage
        ? // Cover the still and centre-crop it: one frame, scaled once, as the gradient is.
          `[${backgroundInput}:v]trim=end_frame=1,scale=${sw}:${sh}:force_original_aspect_ratio=increase:flags=bicubic,crop=${sw}:${sh},setsar=1,format=yuv420p[bg]`
        : // A 2x64 column computed by geq, then scaled up: a smooth vertical gradient, made once.
          `color=c=black:s=2x64:r=${fps}:d=1,format=rgb24,trim=end_frame=1,geq=${gradient(top, bottom)},scale=${sw}:${sh}:flags=bicubic,format=yuv420p[bg]`,
    ];
    if (o.image) {
      const p = layout.product;
      graph.push(
        `[1:v]trim=end_frame=1,format=rgba,scale=w=${even(p.w)}:h=${even(p.h)}:force_original_aspect_ratio=decrease:flags=lanczos[p]`,
        `[bg][p]overlay=x=${Math.round(p.cx)}-w/2:y=${Math.round(p.cy)}-h/2,format=yuv420p[still]`,
      );
    } else {
      graph.push('[bg]null[still]');
    }
    // Per frame: scale the still from the frame's size up by ZOOM, crop a frame from it at a
    // point that drifts from one pan position to the other. Frame numbers, not times: exact.
    const p = `(n/${last})`;
    const grow = `(1+${ZOOM}*${p})`;
    graph.push(
      [
        `[still]loop=loop=${frames - 1}:size=1:start=0,setpts=N/${fps}/TB`,
        `scale=w='2*trunc(${W}*${grow}/2)':h='2*trunc(${H}*${grow}/2)':eval=frame:flags=bilinear`,
        `crop=${W}:${H}:x='(iw-ow)*(${pan.x0.toFixed(3)}+${(pan.x1 - pan.x0).toFixed(3)}*${p})':y='(ih-oh)*(${pan.y0.toFixed(3)}+${(pan.y1 - pan.y0).toFixed(3)}*${p})'`,
        `${text ?? 'null'}`,
        'format=yuv420p[v]',
      ].join(','),
    );

    await writeAtomically(o.out, (tmp) =>
      ctx.runner.ffmpeg(
        [
          // x264 has the cores; filter threads would only add switching on a 2-core worker.
          '-filter_complex_threads',
          '1',
          '-f',
          'lavfi',
          '-i',
          'anullsrc=r=48000:cl=stereo',
          ...(o.image ? inputArgs(o.image) : []),
          ...(o.backgroundImage ? inputArgs(o.backgroundImage) : []),
          '-filter_complex',
          graph.join(';'),
          '-map',
          '[v]',
          '-map',
          '0:a',
          '-t',
          duration,
          '-r',
          String(fps),
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
        { signal: o.signal, env },
      ),
    );
    return probe(ctx.runner.ffprobe, o.out, { signal: o.signal });
  });
}
