import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasFilters } from '../../src/media/binaries.ts';
import { assEscape, assScript, lineHeightFor } from '../../src/media/captions.ts';
import { defaultMediaBinaries, type Media } from '../../src/media/index.ts';
import { type Frame, frameAt, inkCount, isRedish, makeTempDir, testMedia } from './helpers.ts';

/**
 * Captions in every script: each sample is drawn with the shipped font stack and with a
 * Latin-only font (Lato's latin subset, which has none of these characters), and the same
 * stack's rendering of as many characters that no font has (its empty boxes).
 */
const media = testMedia();
let latinOnly: Media;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
  const fontDir = join(dir, 'latin-only');
  await mkdir(fontDir);
  const require = createRequire(import.meta.url);
  await copyFile(
    require.resolve('@fontsource/lato/files/lato-latin-400-normal.woff'),
    join(fontDir, 'lato-latin-400-normal.woff'),
  );
  latinOnly = testMedia({ fonts: { dirs: [fontDir], families: ['Lato'] } });
});
afterAll(() => cleanup());

const W = 480;
const H = 640;
const BG = '#2040a0';
const BG_RGB: [number, number, number] = [0x20, 0x40, 0xa0];
const fontsize = Math.round(Math.min(W, H) * 0.065);
const lineHeight = lineHeightFor(fontsize);

/** Rows of line i of n on renderCard's layout (lines centred vertically). */
function band(i: number, n: number): [number, number] {
  const top = Math.round((H - n * lineHeight) / 2);
  return [top + i * lineHeight, top + (i + 1) * lineHeight];
}

function diffCount(a: Frame, b: Frame, [y0, y1]: [number, number]): number {
  let count = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < a.width; x++) {
      const [r1, g1, b1] = a.pixel(x, y);
      const [r2, g2, b2] = b.pixel(x, y);
      if (Math.abs(r1 - r2) + Math.abs(g1 - g2) + Math.abs(b1 - b2) > 90) count++;
    }
  }
  return count;
}

/** Leftmost and rightmost inked columns of a band: the drawn width of the text. */
function inkWidth(frame: Frame, [y0, y1]: [number, number]): number {
  let left = frame.width;
  let right = -1;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < frame.width; x++) {
      const [r, g, b] = frame.pixel(x, y);
      if (Math.abs(r - BG_RGB[0]) + Math.abs(g - BG_RGB[1]) + Math.abs(b - BG_RGB[2]) > 90) {
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  return right - left + 1;
}

async function card(m: Media, name: string, lines: string[]): Promise<Frame> {
  const out = join(dir, `${name}.mp4`);
  await m.renderCard({ out, width: W, height: H, seconds: 0.5, background: BG, lines });
  return frameAt(m, out, 0.2);
}

const SAMPLES = [
  ['Han', '東京'],
  ['Hangul', '서울'],
  ['Arabic', 'القاهرة'],
  ['Hebrew', 'ירושלים'],
  ['Cyrillic', 'Москва'],
  ['Greek', 'Αθήνα'],
] as const;

/** A code point no font has, as many times as the sample has characters: the empty boxes. */
const NO_GLYPH = '\u{10FFFD}';

describe('captions in every script', () => {
  let real: Frame;
  let latin: Frame;
  let boxes: Frame;

  beforeAll(async () => {
    const texts = SAMPLES.map(([, text]) => text);
    [real, latin, boxes] = await Promise.all([
      card(media, 'scripts-real', texts),
      card(latinOnly, 'scripts-latin', texts),
      card(
        media,
        'scripts-boxes',
        texts.map((t) => NO_GLYPH.repeat([...t].length)),
      ),
    ]);
  });

  it('the shipped fonts cover every sample', async () => {
    for (const [, text] of SAMPLES) expect(await media.missingGlyphs(text)).toEqual([]);
    expect(await latinOnly.missingGlyphs('東京 Москва')).toEqual([
      '東',
      '京',
      'М',
      'о',
      'с',
      'к',
      'в',
      'а',
    ]);
  });

  it.each(SAMPLES.map(([script], i) => [script, i] as const))(
    'draws %s glyphs, not the empty boxes of a font that lacks them',
    (_script, i) => {
      const rows = band(i, SAMPLES.length);
      const ink = inkCount(real, BG_RGB, ...rows);
      expect(ink).toBeGreaterThan(150);
      // A Latin-only font draws boxes (or nothing) where the real stack draws letters.
      expect(diffCount(real, latin, rows)).toBeGreaterThan(ink * 0.3);
      // Missing from every shipped font, the sample would be exactly this row of boxes.
      expect(diffCount(real, boxes, rows)).toBeGreaterThan(ink * 0.3);
    },
  );
});

describe('overlay captions (composite)', () => {
  it('draws 東京 and القاهرة in the band where a Latin-only font draws boxes', async () => {
    const input = join(dir, 'plain-input.mp4');
    await media.renderCard({
      out: input,
      width: W,
      height: H,
      seconds: 0.5,
      background: BG,
      lines: [],
    });
    const text = { lines: ['東京 القاهرة'], position: 'top' as const };
    const real = join(dir, 'overlay-real.mp4');
    const latin = join(dir, 'overlay-latin.mp4');
    await media.composite({ input, out: real, text });
    await latinOnly.composite({ input, out: latin, text });
    const a = await frameAt(media, real, 0.2);
    const b = await frameAt(media, latin, 0.2);
    // The band is the top tenth or so; its own colour is the reference for ink.
    const rows: [number, number] = [0, Math.round(H * 0.08)];
    const bandColour = a.pixel(2, 2);
    const ink = inkCount(a, bandColour, ...rows);
    expect(ink).toBeGreaterThan(150);
    expect(diffCount(a, b, rows)).toBeGreaterThan(ink * 0.3);
  });
});

describe('media.withCaptions (for renderers of their own)', () => {
  it('gives a filter and env that draw 東京 in a graph of the caller', async () => {
    const out = join(dir, 'own.png');
    const spec = {
      width: 320,
      height: 120,
      lines: [{ text: '東京 {\\b1}', y: 30 }],
      style: { fontsize: 40, color: 'ffffff' },
    };
    await media.withCaptions(spec, async (filter, env) => {
      expect(filter).toMatch(/^ass=filename=.*:shaping=complex$/);
      await media.runner.ffmpeg(
        [
          '-f',
          'lavfi',
          '-i',
          'color=c=0x2040a0:s=320x120',
          '-vf',
          `${filter}`,
          '-frames:v',
          '1',
          '-y',
          out,
        ],
        { env },
      );
    });
    const frame = await frameAt(media, out, 0);
    expect(inkCount(frame, BG_RGB, 0, 120)).toBeGreaterThan(300);
    expect(await media.withCaptions({ ...spec, lines: [] }, async (filter) => filter)).toBeNull();
  });
});

describe('right-to-left and shaped text', () => {
  const LRO = '\u202d';
  const PDF = '\u202c';
  const lines = [
    'مرحبا',
    // Zero-width non-joiners between the letters force their isolated forms.
    'م\u200cر\u200cح\u200cب\u200cا',
    'שלום',
    // The letters reversed and forced left to right: what a correct bidi pass draws.
    `${LRO}םולש${PDF}`,
    // The logical order forced left to right: what no bidi pass would draw.
    `${LRO}שלום${PDF}`,
  ];
  let frame: Frame;

  beforeAll(async () => {
    frame = await card(media, 'bidi', lines);
  });

  it('joins Arabic letters: the shaped word is narrower than its isolated letters', () => {
    const joined = inkWidth(frame, band(0, lines.length));
    const isolated = inkWidth(frame, band(1, lines.length));
    expect(joined).toBeGreaterThan(20);
    // Unshaped (drawtext), both rows would draw the same isolated glyphs at the same width.
    expect(joined).toBeLessThan(isolated * 0.9);
  });

  it('lays Hebrew out right to left', () => {
    const n = lines.length;
    const ink = inkCount(frame, BG_RGB, ...band(2, n));
    expect(ink).toBeGreaterThan(150);
    // Row 2 against rows 3 and 4, moved onto row 2's position.
    const shifted = (row: number) => ({
      ...frame,
      pixel: (x: number, y: number) => frame.pixel(x, y + (row - 2) * lineHeight),
    });
    expect(diffCount(frame, shifted(3), band(2, n))).toBeLessThan(ink * 0.05);
    expect(diffCount(frame, shifted(4), band(2, n))).toBeGreaterThan(ink * 0.3);
  });
});

describe('hostile caption text', () => {
  it('escapes ASS override blocks, escapes and line breaks', () => {
    expect(assEscape('plain')).toBe('plain');
    expect(assEscape('{\\b1}x{\\c&H0000FF&}')).toBe('\\{\\\u2060b1\\}x\\{\\\u2060c&H0000FF&\\}');
    expect(assEscape('a\\Nb\\nc\\hd')).toBe('a\\\u2060Nb\\\u2060nc\\\u2060hd');
    expect(assEscape('one\ntwo\r\n[Events]')).toBe('one two [Events]');
    const script = assScript({
      width: 100,
      height: 100,
      lines: [
        { text: 'x\nDialogue: 0,0:00:00.00,9:00:00.00,Caption,,0,0,0,,{\\c&H0000FF&}y', y: 0 },
      ],
      style: { fontsize: 10, color: 'ffffff' },
    });
    expect(script.match(/^Dialogue:/gm)).toHaveLength(1);
  });

  it("draws `'\\:,;[]{}%` and override tags verbatim, without applying them", async () => {
    // Each short enough to stay one line, so row i is caption i.
    const hostile = [
      "'\\:,;[]{}% x",
      '{\\c&H0000FF&}red',
      '{\\fs200\\b1}big',
      'a\\Nb [o];x',
      '%{pts}',
    ];
    const frame = await card(media, 'hostile', hostile);
    const plain = await card(media, 'hostile-plain', ['x', 'red', 'big', 'ab', 'p']);
    const n = hostile.length;
    for (let i = 0; i < n; i++) {
      // Braces, backslashes and tags drawn as text leave far more ink than the bare words.
      expect(inkCount(frame, BG_RGB, ...band(i, n))).toBeGreaterThan(
        inkCount(plain, BG_RGB, ...band(i, n)) * 2,
      );
    }
    // \c&H0000FF& would turn the text red, \fs200 would blow it up, \N would add a line.
    let red = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (isRedish(frame.pixel(x, y))) red++;
    expect(red).toBe(0);
    const [top] = band(0, n);
    const [, bottom] = band(n - 1, n);
    expect(inkCount(frame, BG_RGB, 0, top)).toBe(0);
    expect(inkCount(frame, BG_RGB, bottom, H - 10)).toBe(0);
  });
});

describe('ffmpeg choice', () => {
  it('prefers Debian ffmpeg (xfade, libass), which .ci/run installs, over the 2018 npm build', () => {
    const require = createRequire(import.meta.url);
    const npm = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    expect(hasFilters(npm, ['ass'])).toBe(true);
    expect(hasFilters(npm, ['xfade'])).toBe(false);
    expect(hasFilters('/usr/bin/ffmpeg', ['xfade', 'ass'])).toBe(true);
    expect(defaultMediaBinaries()).toMatchObject({
      ffmpegPath: '/usr/bin/ffmpeg',
      ffprobePath: '/usr/bin/ffprobe',
    });
  });
});
