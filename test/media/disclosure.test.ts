import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DisclosureSpec } from '../../src/media/disclosure.ts';
import { logoRect } from '../../src/media/index.ts';
import { type Frame, frameAt, isRedish, makeTempDir, testMedia } from './helpers.ts';

/**
 * The visible AI label off its default: in a bottom corner over a text band, for a few
 * seconds only, and in scripts whose glyphs are wider or narrower than Latin's.
 */
const media = testMedia();
let dir: string;
let cleanup: () => Promise<void>;
let landscape: string;
let portrait: string;
let logo: string;
/** The unlabelled card at 0.5 s and 0.7 s (its progress bar moves). */
let plainAt: Record<'0.5' | '0.7', Frame>;

const BG_RGB: [number, number, number] = [0x20, 0x40, 0xa0];

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
  landscape = join(dir, 'landscape.mp4');
  portrait = join(dir, 'portrait.mp4');
  const card = { seconds: 1, background: '#2040a0', lines: [] };
  await media.renderCard({ out: landscape, width: 320, height: 180, ...card });
  await media.renderCard({ out: portrait, width: 180, height: 320, ...card });
  logo = join(dir, 'logo.png');
  await media.runner.ffmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=red:s=64x64', '-frames:v', '1', '-y', `file:${logo}`],
  ]);
  plainAt = {
    '0.5': await frameAt(media, landscape, 0.5),
    '0.7': await frameAt(media, landscape, 0.7),
  };
});
afterAll(() => cleanup());

/** The label's box is opaque black; the band is the background darkened to 45%. */
const isBlack = ([r, g, b]: [number, number, number]) => r + g + b < 45;
const isWhite = ([r, g, b]: [number, number, number]) => Math.min(r, g, b) > 200;
const isBackground = ([r, g, b]: [number, number, number]) =>
  Math.abs(r - BG_RGB[0]) + Math.abs(g - BG_RGB[1]) + Math.abs(b - BG_RGB[2]) < 40;

/** Pixels that differ clearly from the same pixel of another frame (the unlabelled card's). */
const differs = (a: Frame, b: Frame) => (x: number, y: number) => {
  const [r1, g1, b1] = a.pixel(x, y);
  const [r2, g2, b2] = b.pixel(x, y);
  return Math.abs(r1 - r2) + Math.abs(g1 - g2) + Math.abs(b1 - b2) > 90;
};

const where =
  (frame: Frame, test: (p: [number, number, number]) => boolean) => (x: number, y: number) =>
    test(frame.pixel(x, y));

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Bounding box of the pixels that pass `test` in rows [y0, y1); null when none do. */
function bounds(
  frame: Frame,
  test: (x: number, y: number) => boolean,
  y0 = 0,
  y1 = frame.height,
): Box | null {
  let box: Box | null = null;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < frame.width; x++) {
      if (!test(x, y)) continue;
      box ??= { x0: x, y0: y, x1: x, y1: y };
      box.x0 = Math.min(box.x0, x);
      box.x1 = Math.max(box.x1, x);
      box.y0 = Math.min(box.y0, y);
      box.y1 = Math.max(box.y1, y);
    }
  }
  return box;
}

async function labelled(
  input: string,
  name: string,
  disclosure: DisclosureSpec,
  lines: string[] = [],
): Promise<string> {
  const out = join(dir, `${name}.mp4`);
  await media.composite({ input, out, disclosure, text: lines.length ? { lines } : null });
  return out;
}

/** Pixels inside a box that differ clearly between two frames. */
function diffInside(a: Frame, b: Frame, box: Box): number {
  const differ = differs(a, b);
  let n = 0;
  for (let y = box.y0; y <= box.y1; y++)
    for (let x = box.x0; x <= box.x1; x++) if (differ(x, y)) n++;
  return n;
}

// Two composites and their frames a test: slow when the machine's two cores are shared.
describe('visible AI disclosure', { timeout: 90_000 }, () => {
  it.each(['bottom-left', 'bottom-right'] as const)(
    'in the %s corner sits above the city/legal band, not inside it',
    async (position) => {
      const out = await labelled(
        landscape,
        `band-${position}`,
        { text: 'AI-generated', position, seconds: null },
        ['Now in Paris, offer ends Sunday'],
      );
      const frame = await frameAt(media, out, 0.5);
      // The band spans the width: its top is where the middle column stops being background.
      let bandTop = frame.height;
      for (let y = frame.height - 1; y >= 0 && !isBackground(frame.pixel(160, y)); y--) bandTop = y;
      expect(bandTop).toBeGreaterThan(frame.height - 40);
      expect(bandTop).toBeLessThan(frame.height - 15);

      const label = bounds(frame, where(frame, isBlack));
      expect(label).not.toBeNull();
      expect(label!.y1).toBeLessThan(bandTop);
      // Its own corner, white text on the box.
      const left = position === 'bottom-left';
      expect(left ? label!.x1 < 160 : label!.x0 > 160).toBe(true);
      const text = bounds(frame, where(frame, isWhite), label!.y0, label!.y1 + 1);
      expect(text).not.toBeNull();
      expect(text!.x0).toBeGreaterThan(label!.x0);
      expect(text!.x1).toBeLessThan(label!.x1);
    },
  );

  it('in the logo corner stacks below the logo instead of under it', async () => {
    const out = join(dir, 'under-logo.mp4');
    const position = 'top-left';
    await media.composite({
      input: landscape,
      out,
      logo: { path: logo, position, widthShare: 0.2, marginShare: 0.05 },
      disclosure: { text: 'AI-generated', position, seconds: null },
    });
    const frame = await frameAt(media, out, 0.5);
    const rect = logoRect(
      { width: 320, height: 180 },
      { width: 64, height: 64 },
      {
        position,
        widthShare: 0.2,
        marginShare: 0.05,
      },
    );
    expect(isRedish(frame.pixel(rect.x + rect.w / 2, rect.y + rect.h / 2))).toBe(true);
    const label = bounds(frame, where(frame, isBlack));
    expect(label).not.toBeNull();
    expect(label!.y0).toBeGreaterThan(rect.y + rect.h);
    expect(bounds(frame, where(frame, isWhite), label!.y0, label!.y1 + 1)).not.toBeNull();
  });

  it('with seconds is drawn early and gone after', async () => {
    const out = await labelled(landscape, 'seconds', {
      text: 'AI-generated',
      position: 'top-left',
      seconds: 0.4,
    });
    const early = await frameAt(media, out, 0.2);
    const late = await frameAt(media, out, 0.7);
    const shown = bounds(early, where(early, isBlack));
    expect(shown).not.toBeNull();
    expect(shown!.y1 - shown!.y0).toBeGreaterThan(10);
    expect(bounds(early, where(early, isWhite), shown!.y0, shown!.y1 + 1)).not.toBeNull();
    expect(bounds(late, differs(late, plainAt['0.7']))).toBeNull();
  });

  // A code point no font has: the same label drawn as empty boxes.
  const NO_GLYPH = '\u{10FFFD}';

  it.each([
    ['CJK', '人工智能生成内容', 'top-left'],
    ['Arabic', 'تم إنشاؤه بالذكاء الاصطناعي', 'top-right'],
    ['Hebrew', 'נוצר באמצעות בינה מלאכותית', 'bottom-left'],
  ] as const)(
    'a %s label fits its box in its corner, with real glyphs',
    async (script, text, position) => {
      const frameOf = async (label: string, name: string) =>
        frameAt(
          media,
          await labelled(landscape, name, { text: label, position, seconds: null }),
          0.5,
        );
      const real = await frameOf(text, `script-${script}`);
      const boxes = await frameOf(
        Array.from(text, (c) => (c === ' ' ? c : NO_GLYPH)).join(''),
        `script-${script}-boxes`,
      );
      const box = bounds(real, where(real, isBlack));
      expect(box).not.toBeNull();
      // The box keeps its gap to both edges of its corner (3% of the shorter side: 5 px)...
      const gap = 5;
      const left = position.endsWith('left');
      const top = position.startsWith('top');
      expect(Math.abs((left ? box!.x0 : real.width - 1 - box!.x1) - gap)).toBeLessThanOrEqual(2);
      expect(Math.abs((top ? box!.y0 : real.height - 1 - box!.y1) - gap)).toBeLessThanOrEqual(2);
      // ...and holds all of the label's ink: outside it the frame is the unlabelled card's.
      const changed = differs(real, plainAt['0.5']);
      // (2 px of slack: the box's own anti-aliased and chroma-subsampled edge.)
      const inside = (x: number, y: number) =>
        x >= box!.x0 - 2 && x <= box!.x1 + 2 && y >= box!.y0 - 2 && y <= box!.y1 + 2;
      expect(bounds(real, (x, y) => changed(x, y) && !inside(x, y))).toBeNull();
      const ink = bounds(real, where(real, isWhite), box!.y0, box!.y1 + 1);
      expect(ink).not.toBeNull();
      expect(ink!.x0).toBeGreaterThan(box!.x0);
      expect(ink!.x1).toBeLessThan(box!.x1);
      // The glyphs drawn are the script's, not the empty boxes of a font that lacks them.
      expect(diffInside(real, boxes, box!)).toBeGreaterThan(80);
    },
  );

  it('wraps a label longer than a portrait frame is wide, inside the frame', async () => {
    const out = await labelled(portrait, 'wrapped', {
      text: '本广告内容由人工智能生成仅供参考',
      position: 'top-right',
      seconds: null,
    });
    const frame = await frameAt(media, out, 0.5);
    const box = bounds(frame, where(frame, isBlack));
    expect(box).not.toBeNull();
    expect(box!.x0).toBeGreaterThanOrEqual(3);
    expect(box!.x1).toBeLessThanOrEqual(frame.width - 4);
    // Two lines of 12 px type.
    expect(box!.y1 - box!.y0).toBeGreaterThan(30);
  });
});
