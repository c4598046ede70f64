import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FontStack } from './fonts.ts';

/**
 * Every caption (card text, overlay city and legal lines) is drawn here, through libass: it
 * falls back across the caption fonts per character (fontconfig), orders right-to-left text
 * (fribidi) and shapes joined scripts such as Arabic (HarfBuzz). drawtext in ffmpeg 5.1 does
 * none of that. User text never enters the filtergraph: it goes into an ASS file, escaped.
 */

/**
 * Escapes a value for a filter option inside a -filter_complex string. ffmpeg unescapes
 * twice: once when splitting the graph (`[],;` and quotes), once when splitting a filter's
 * `key=value:` list (`:` and quotes), so both levels are applied, innermost first.
 */
export function escapeFilterValue(value: string): string {
  const optionLevel = value.replace(/[\\':\s]/g, '\\$&');
  return optionLevel.replace(/[\\'[\],;]/g, '\\$&');
}

/** Flattens what would be layout (newlines, tabs, control codes) into single spaces. */
export function sanitizeCaption(text: string): string {
  return text.replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ').trim();
}

const WORD_JOINER = '\u2060';

/**
 * Text for an ASS Dialogue line that libass draws verbatim. Outside override blocks libass
 * reads `{…}` as tags and `\N`, `\n`, `\h`, `\{`, `\}` as escapes: braces become `\{`/`\}`
 * (drawn as braces), and every backslash is followed by an invisible word joiner so it can
 * start no escape. Newlines, which would end the Dialogue line, are flattened first.
 */
export function assEscape(text: string): string {
  return sanitizeCaption(text).replace(/\\/g, `\\${WORD_JOINER}`).replace(/[{}]/g, '\\$&');
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** East Asian wide characters (Han, kana, Hangul, fullwidth forms) take about twice a Latin advance. */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;

/** Width of a grapheme in average Latin advances: combining marks ride on their base. */
function widthOf(grapheme: string): number {
  return WIDE.test(grapheme) ? 2 : 1;
}

function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

const ELLIPSIS = '…';

/**
 * Greedy word wrap by grapheme widths (a wide CJK character counts two). libass could wrap,
 * but the caller sizes bands and positions lines, so the line count is decided here; width is
 * estimated from an average advance rather than measured. Text without spaces (CJK) breaks
 * between graphemes, never inside one (an accent or an Arabic mark stays with its letter).
 */
export function wrapCaptions(
  lines: readonly string[],
  maxWidth: number,
  maxLines: number,
): string[] {
  const limit = Math.max(2, Math.floor(maxWidth));
  const out: string[] = [];
  for (const raw of lines) {
    const words = sanitizeCaption(raw).split(' ').filter(Boolean);
    let current = '';
    let width = 0;
    for (const word of words) {
      const parts = graphemes(word);
      const wordWidth = parts.reduce((sum, g) => sum + widthOf(g), 0);
      const needed = current ? width + 1 + wordWidth : wordWidth;
      if (needed <= limit) {
        current = current ? `${current} ${word}` : word;
        width = needed;
        continue;
      }
      if (current) out.push(current);
      current = '';
      width = 0;
      for (const g of parts) {
        const w = widthOf(g);
        if (width + w > limit && current) {
          out.push(current);
          current = '';
          width = 0;
        }
        current += g;
        width += w;
      }
    }
    if (current) out.push(current);
  }
  if (out.length <= maxLines) return out;
  const kept = out.slice(0, Math.max(0, maxLines));
  const last = kept.pop();
  if (last === undefined) return kept;
  let room = '';
  let width = 0;
  for (const g of graphemes(last)) {
    if (width + widthOf(g) > limit - 1) break;
    room += g;
    width += widthOf(g);
  }
  kept.push(`${room.trimEnd()}${ELLIPSIS}`);
  return kept;
}

/** Average advance of DejaVu Sans in ems, a little generous so lines rarely overflow. */
const AVERAGE_ADVANCE_EM = 0.6;

/** How many average Latin advances fit in a width (the unit of wrapCaptions). */
export function charsThatFit(widthPx: number, fontsize: number): number {
  return Math.max(2, Math.floor(widthPx / (fontsize * AVERAGE_ADVANCE_EM)));
}

/** Line pitch for a font size: enough leading that descenders never touch the next line. */
export function lineHeightFor(fontsize: number): number {
  return Math.round(fontsize * 1.35);
}

/**
 * libass sizes a font by its ascent plus descent rather than its em; DejaVu Sans's is 1.164 em,
 * so scaling by it keeps the em size callers ask for (what drawtext's fontsize meant).
 */
const ASS_SIZE_PER_EM = 1.164;

export interface CaptionLine {
  text: string;
  /** Top of the line; lines are centred horizontally. */
  y: number;
}

export interface CaptionStyle {
  /** Em size in pixels. */
  fontsize: number;
  /** `rrggbb`. */
  color: string;
  /** Outline width in pixels that keeps text readable on busy footage; 0 or absent: none. */
  outline?: number | undefined;
}

/** `rrggbb` plus opacity 0..1 to ASS's `&HAABBGGRR` (alpha 00 is opaque). */
function assColour(rgb: string, opacity = 1): string {
  const hex = rgb.replace(/^#/, '').toLowerCase();
  if (!/^[0-9a-f]{6}$/.test(hex)) throw new Error(`not an rrggbb colour: ${rgb}`);
  const alpha = Math.round((1 - opacity) * 255)
    .toString(16)
    .padStart(2, '0');
  return `&H${alpha}${hex.slice(4, 6)}${hex.slice(2, 4)}${hex.slice(0, 2)}`.toUpperCase();
}

/**
 * One script per render: PlayRes is the video's size, so positions and sizes are pixels.
 * Encoding -1 lets libass pick each line's base direction from its first strong character,
 * so a Hebrew or Arabic line reads right to left; the font is `sans-serif`, which the font
 * stack's fontconfig file maps to its first family.
 */
export function assScript(p: {
  width: number;
  height: number;
  lines: readonly CaptionLine[];
  style: CaptionStyle;
}): string {
  const { style } = p;
  const size = Math.max(1, Math.round(style.fontsize * ASS_SIZE_PER_EM));
  const outline = style.outline ?? 0;
  const colour = assColour(style.color);
  const styleLine = [
    'Style: Caption',
    'sans-serif',
    size,
    colour,
    colour,
    assColour('000000', 0.35),
    assColour('000000', 0),
    0,
    0,
    0,
    0,
    100,
    100,
    0,
    0,
    1,
    outline,
    0,
    8,
    0,
    0,
    0,
    -1,
  ].join(',');
  const x = Math.round(p.width / 2);
  const events = p.lines.map(
    (line) =>
      `Dialogue: 0,0:00:00.00,9:59:59.99,Caption,,0,0,0,,{\\pos(${x},${Math.round(line.y)})}${assEscape(line.text)}`,
  );
  return [
    '[Script Info]',
    'ScriptType: v4.00+',
    `PlayResX: ${p.width}`,
    `PlayResY: ${p.height}`,
    'WrapStyle: 2',
    'ScaledBorderAndShadow: yes',
    'YCbCr Matrix: None',
    '',
    '[V4+ Styles]',
    'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding',
    styleLine,
    '',
    '[Events]',
    'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
    ...events,
    '',
  ].join('\n');
}

export interface CaptionsSpec {
  /** The video's size: positions and sizes are pixels of it. */
  width: number;
  height: number;
  lines: readonly CaptionLine[];
  style: CaptionStyle;
}

export interface CaptionContext {
  tmpDir: string;
  fonts: FontStack;
}

/**
 * Writes the captions' ASS file to a private temp dir (removed afterwards) and hands `use` the
 * filter that draws them and the environment ffmpeg needs to find the fonts. No lines: no
 * filter, no file.
 */
export async function withCaptions<T>(
  ctx: CaptionContext,
  p: CaptionsSpec,
  use: (filter: string | null, env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const lines = p.lines.filter((l) => sanitizeCaption(l.text) !== '');
  if (lines.length === 0) return use(null, {});
  const env = await ctx.fonts.env();
  const dir = await mkdtemp(join(ctx.tmpDir, 'admatrix-text-'));
  try {
    const file = join(dir, 'captions.ass');
    await writeFile(file, assScript({ ...p, lines }), 'utf8');
    return await use(`ass=filename=${escapeFilterValue(file)}:shaping=complex`, env);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
