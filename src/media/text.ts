import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Escapes a value for a filter option inside a -filter_complex string. ffmpeg unescapes
 * twice: once when splitting the graph (`[],;` and quotes), once when splitting a filter's
 * `key=value:` list (`:` and quotes), so both levels are applied, innermost first.
 */
export function escapeFilterValue(value: string): string {
  const optionLevel = value.replace(/[\\':\s]/g, '\\$&');
  return optionLevel.replace(/[\\'[\],;]/g, '\\$&');
}

/** Flattens what drawtext would treat as layout (newlines, tabs, control codes) into single spaces. */
export function sanitizeCaption(text: string): string {
  return text.replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ').trim();
}

const ELLIPSIS = '…';

/**
 * Greedy word wrap by code points. drawtext has no wrapping of its own, and measuring
 * glyphs would need a font engine, so width is estimated from an average advance.
 */
export function wrapCaptions(
  lines: readonly string[],
  maxChars: number,
  maxLines: number,
): string[] {
  const limit = Math.max(1, Math.floor(maxChars));
  const out: string[] = [];
  for (const raw of lines) {
    const words = sanitizeCaption(raw).split(' ').filter(Boolean);
    let current: string[] = [];
    for (const word of words) {
      let chars = Array.from(word);
      const needed = current.length === 0 ? chars.length : current.length + 1 + chars.length;
      if (needed <= limit) {
        current = current.length === 0 ? chars : [...current, ' ', ...chars];
        continue;
      }
      if (current.length > 0) out.push(current.join(''));
      current = [];
      while (chars.length > limit) {
        out.push(chars.slice(0, limit).join(''));
        chars = chars.slice(limit);
      }
      current = chars;
    }
    if (current.length > 0) out.push(current.join(''));
  }
  if (out.length <= maxLines) return out;
  const kept = out.slice(0, Math.max(0, maxLines));
  const last = kept.pop();
  if (last === undefined) return kept;
  const room = Array.from(last).slice(0, Math.max(0, limit - 1));
  kept.push(`${room.join('').trimEnd()}${ELLIPSIS}`);
  return kept;
}

/** Average advance of DejaVu Sans in ems, a little generous so lines rarely overflow. */
const AVERAGE_ADVANCE_EM = 0.6;

export function charsThatFit(widthPx: number, fontsize: number): number {
  return Math.max(1, Math.floor(widthPx / (fontsize * AVERAGE_ADVANCE_EM)));
}

interface DrawTextLine {
  textPath: string;
  y: number;
}

interface DrawTextStyle {
  fontPath: string;
  fontsize: number;
  color: string;
  /** Outline that keeps text readable on busy footage; 0 disables it. */
  borderw?: number;
}

/**
 * One drawtext per line, horizontally centred. Text comes from files with expansion off,
 * so captions reach the frame byte for byte: no `%{…}` expansion and no escaping of user text.
 */
export function drawtextFilters(lines: readonly DrawTextLine[], style: DrawTextStyle): string[] {
  const font = escapeFilterValue(style.fontPath);
  return lines.map((line) => {
    const opts = [
      `fontfile=${font}`,
      `textfile=${escapeFilterValue(line.textPath)}`,
      'expansion=none',
      `fontsize=${style.fontsize}`,
      `fontcolor=${style.color}`,
      ...(style.borderw ? [`borderw=${style.borderw}`, 'bordercolor=black@0.35'] : []),
      'fix_bounds=1',
      `x=(w-text_w)/2`,
      `y=${line.y}`,
    ];
    return `drawtext=${opts.join(':')}`;
  });
}

/** Writes each caption to its own file in a private temp dir that is removed afterwards. */
export async function withCaptionFiles<T>(
  tmpRoot: string,
  lines: readonly string[],
  use: (paths: string[]) => Promise<T>,
): Promise<T> {
  if (lines.length === 0) return use([]);
  const dir = await mkdtemp(join(tmpRoot, 'admatrix-text-'));
  try {
    const paths = await Promise.all(
      lines.map(async (line, i) => {
        const path = join(dir, `line-${i}.txt`);
        await writeFile(path, line, 'utf8');
        return path;
      }),
    );
    return await use(paths);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Line pitch for a font size: enough leading that descenders never touch the next line. */
export function lineHeightFor(fontsize: number): number {
  return Math.round(fontsize * 1.35);
}
