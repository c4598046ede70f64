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
  /** Top of the line (its bottom with a bottom anchor). */
  y: number;
  /** Centre of the line; the frame's centre by default. */
  x?: number | undefined;
  /**
   * Which corner of the line (x, y) is, instead of its top centre: libass then lays the text
   * out from that corner with its real (shaped) advances, so a label of any width stays where
   * it is put.
   */
  anchor?: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | undefined;
  /** This line's em size in pixels, over the style's. */
  fontsize?: number | undefined;
  /** This line's `rrggbb`, over the style's. */
  color?: string | undefined;
  bold?: boolean | undefined;
  /** Drawn on an opaque box of this `rrggbb` (a button), `padding` pixels around the text. */
  box?: { color: string; padding: number } | undefined;
  /**
   * Animates the line in: it appears `at` seconds into the clip, fading in over `fade` seconds
   * while sliding up from `slide` pixels below its place.
   */
  enter?: { at: number; fade: number; slide?: number | undefined } | undefined;
  /** Seconds into the clip the line disappears; absent: it stays to the end. */
  until?: number | undefined;
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

/** `rrggbb` to a colour override tag's `&HBBGGRR&` (opaque). */
function assBgr(rgb: string): string {
  return `&H${assColour(rgb).slice(4)}&`;
}

/** A finite number for an override tag, never NaN or exponent notation. */
function num(value: number, name: string): string {
  if (!Number.isFinite(value)) throw new Error(`caption ${name} must be a finite number`);
  return String(Math.round(value));
}

/** Seconds to ASS's `h:mm:ss.cc`. */
function assTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error('caption times must be >= 0');
  const cs = Math.round(seconds * 100);
  const h = Math.floor(cs / 360_000);
  const m = Math.floor(cs / 6000) % 60;
  const s = Math.floor(cs / 100) % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${h}:${pad(m)}:${pad(s)}.${pad(cs % 100)}`;
}

/** ASS numpad alignments: 7 and 9 hang from the top corners, 1 and 3 sit on the bottom ones. */
const ANCHOR_ALIGNMENT = { 'top-left': 7, 'top-right': 9, 'bottom-left': 1, 'bottom-right': 3 };

/**
 * A line's override tags, built only from numbers and validated colours (user text never
 * reaches a tag): position or move, then size, weight, colour, box and fade.
 */
function lineTags(width: number, line: CaptionLine): string {
  const x = num(line.x ?? width / 2, 'x');
  const y = num(line.y, 'y');
  const tags: string[] = line.anchor ? [`\\an${ANCHOR_ALIGNMENT[line.anchor]}`] : [];
  const enter = line.enter;
  const slide = enter?.slide ?? 0;
  if (enter && slide !== 0) {
    const ms = num(enter.fade * 1000, 'fade');
    tags.push(`\\move(${x},${num(line.y + slide, 'slide')},${x},${y},0,${ms})`);
  } else {
    tags.push(`\\pos(${x},${y})`);
  }
  if (line.fontsize !== undefined) {
    tags.push(`\\fs${num(Math.max(1, line.fontsize * ASS_SIZE_PER_EM), 'fontsize')}`);
  }
  if (line.bold) tags.push('\\b1');
  if (line.color) tags.push(`\\1c${assBgr(line.color)}`);
  if (line.box) {
    tags.push(`\\3c${assBgr(line.box.color)}\\3a&H00&`);
    tags.push(`\\bord${num(line.box.padding, 'padding')}`);
  }
  if (enter) tags.push(`\\fad(${num(enter.fade * 1000, 'fade')},0)`);
  return tags.join('');
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
  const styleLine = (name: string, borderStyle: 1 | 3) =>
    [
      `Style: ${name}`,
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
      borderStyle,
      borderStyle === 1 ? outline : 0,
      0,
      8,
      0,
      0,
      0,
      -1,
    ].join(',');
  const boxed = p.lines.some((l) => l.box);
  const events = p.lines.map((line) => {
    const start = line.enter ? assTime(line.enter.at) : '0:00:00.00';
    const style = line.box ? 'Box' : 'Caption';
    const end = line.until === undefined ? '9:59:59.99' : assTime(line.until);
    return `Dialogue: 0,${start},${end},${style},,0,0,0,,{${lineTags(p.width, line)}}${assEscape(line.text)}`;
  });
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
    styleLine('Caption', 1),
    // BorderStyle 3 draws the outline as an opaque box: its colour and padding come per line.
    ...(boxed ? [styleLine('Box', 3)] : []),
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
