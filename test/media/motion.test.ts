import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assScript } from '../../src/media/captions.ts';
import type { Media } from '../../src/media/index.ts';
import {
  type Frame,
  frameAt,
  inkCount,
  isRedish,
  makeTempDir,
  sha256File,
  testMedia,
} from './helpers.ts';

const media = testMedia();
let dir: string;
let cleanup: () => Promise<void>;
let product: string;

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
  product = join(dir, 'product.png');
  await media.runner.ffmpeg(
    ['-f', 'lavfi', '-i', 'color=c=red:s=400x300', '-frames:v', '1', '-y', `file:${product}`],
    {},
  );
});
afterAll(() => cleanup());

const W = 360;
const H = 640;
const base = {
  width: W,
  height: H,
  background: '#2a4d7a',
  kicker: 'Bold · Paris',
  headline: 'Cold fizz for a hot city',
  cta: 'Order now',
  seed: 'A bold ad for Fizz',
};

/** Pixels of rows [y0, y1) that differ clearly between two frames. */
function diffCount(a: Frame, b: Frame, y0: number, y1: number): number {
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

/** The text block's rows below the product (portrait layout). */
const TEXT_ROWS: [number, number] = [Math.round(H * 0.55), Math.round(H * 0.88)];

describe('renderMotion (the local motion template)', () => {
  it('puts the product on screen, moves over it and animates the text in', async () => {
    const out = join(dir, 'motion.mp4');
    const facts = await media.renderMotion({ ...base, out, seconds: 2, image: product });
    expect(facts).toMatchObject({ width: W, height: H, video_codec: 'h264', has_audio: true });
    expect(facts.duration_s).toBeCloseTo(2, 1);
    const { stdout } = await media.runner.ffprobe([
      ...['-select_streams', 'v:0', '-count_frames', '-show_entries'],
      ...['stream=r_frame_rate,nb_read_frames', '-of', 'json', `file:${out}`],
    ]);
    expect(JSON.parse(stdout.toString()).streams[0]).toEqual({
      r_frame_rate: '25/1',
      nb_read_frames: '50',
    });

    const first = await frameAt(media, out, 0);
    const lastFrame = await frameAt(media, out, 1.9);
    expect(isRedish(first.pixel(W / 2, Math.round(H * 0.33)))).toBe(true);
    // The camera moved: the product's edges are elsewhere at the end.
    expect(diffCount(first, lastFrame, 0, Math.round(H * 0.55))).toBeGreaterThan(500);
    // No text at the first frame; the headline and button by the end.
    const bgAt = (f: Frame, y: number) => f.pixel(2, y);
    const ink = (f: Frame) => {
      let n = 0;
      for (let y = TEXT_ROWS[0]; y < TEXT_ROWS[1]; y += 2) n += inkCount(f, bgAt(f, y), y, y + 1);
      return n;
    };
    expect(ink(first)).toBe(0);
    expect(ink(lastFrame)).toBeGreaterThan(400);
  });

  it('is deterministic: the same inputs give the same bytes', async () => {
    const a = join(dir, 'same-a.mp4');
    const b = join(dir, 'same-b.mp4');
    await media.renderMotion({ ...base, out: a, seconds: 1, image: product });
    await media.renderMotion({ ...base, out: b, seconds: 1, image: product });
    expect(await sha256File(a)).toBe(await sha256File(b));
  });

  it("covers the frame with the level's background image, behind the product; same bytes twice", async () => {
    // Green left half, blue right half, in a landscape image: covered and centre-cropped.
    const backdrop = join(dir, 'backdrop.png');
    await media.runner.ffmpeg([
      ...['-f', 'lavfi', '-i', 'color=c=0x00c000:s=400x300', '-f', 'lavfi', '-i'],
      ...['color=c=0x0000c0:s=400x300', '-filter_complex', '[0:v][1:v]hstack'],
      ...['-frames:v', '1', '-y', `file:${backdrop}`],
    ]);
    const out = join(dir, 'backdrop.mp4');
    const again = join(dir, 'backdrop-again.mp4');
    const opts = { ...base, seconds: 1, image: product, backgroundImage: backdrop };
    await media.renderMotion({ ...opts, out });
    await media.renderMotion({ ...opts, out: again });
    expect(await sha256File(out)).toBe(await sha256File(again));
    const frame = await frameAt(media, out, 0);
    const isGreen = ([r, g, b]: [number, number, number]) => g > 150 && r < 60 && b < 60;
    const isBlue = ([r, g, b]: [number, number, number]) => b > 150 && r < 60 && g < 60;
    // Beside the product, near the top: the image's left and right halves, not the palette.
    expect(isGreen(frame.pixel(8, 12))).toBe(true);
    expect(isBlue(frame.pixel(W - 8, 12))).toBe(true);
    expect(isRedish(frame.pixel(W / 2, Math.round(H * 0.33)))).toBe(true);
    const plain = await frameAt(media, join(dir, 'same-a.mp4'), 0);
    expect(isGreen(plain.pixel(8, 12)) || isBlue(plain.pixel(W - 8, 12))).toBe(false);
  });

  it('without a product image draws the palette, and CJK text in glyphs, not boxes', async () => {
    const fontDir = join(dir, 'latin-only');
    await mkdir(fontDir, { recursive: true });
    const require = createRequire(import.meta.url);
    await copyFile(
      require.resolve('@fontsource/lato/files/lato-latin-400-normal.woff'),
      join(fontDir, 'lato-latin-400-normal.woff'),
    );
    const latinOnly: Media = testMedia({ fonts: { dirs: [fontDir], families: ['Lato'] } });
    const opts = { ...base, headline: '東京の夏', kicker: '', cta: '', seconds: 1.2 };
    const real = join(dir, 'cjk-real.mp4');
    const boxes = join(dir, 'cjk-boxes.mp4');
    await media.renderMotion({ ...opts, out: real });
    await latinOnly.renderMotion({ ...opts, out: boxes });
    const a = await frameAt(media, real, 1.1);
    const b = await frameAt(media, boxes, 1.1);
    // The gradient's top is the level's colour: no product anywhere.
    const [r, g, bl] = a.pixel(W / 2, 4);
    expect(Math.abs(r - 0x2a) + Math.abs(g - 0x4d) + Math.abs(bl - 0x7a)).toBeLessThan(40);
    expect(isRedish(a.pixel(W / 2, Math.round(H * 0.33)))).toBe(false);
    // Alone, the headline is centred a little above the middle.
    const rows: [number, number] = [Math.round(H * 0.3), Math.round(H * 0.6)];
    const drawn = inkCount(a, a.pixel(2, Math.round(H * 0.45)), ...rows);
    expect(drawn).toBeGreaterThan(150);
    expect(diffCount(a, b, ...rows)).toBeGreaterThan(drawn * 0.3);
  });
});

describe('animated caption lines (ASS)', () => {
  it('turns entrances and buttons into tags and keeps the text escaped', () => {
    const script = assScript({
      width: 720,
      height: 1280,
      style: { fontsize: 40, color: 'ffffff' },
      lines: [
        {
          text: 'Hi {\\pos(0,0)}\\N',
          y: 800,
          enter: { at: 0.35, fade: 0.5, slide: 32 },
          bold: true,
        },
        {
          text: 'Go',
          x: 300,
          y: 900,
          color: '112233',
          box: { color: 'ffffff', padding: 8 },
          enter: { at: 1.1, fade: 0.35 },
        },
      ],
    });
    expect(script).toContain(
      'Dialogue: 0,0:00:00.35,9:59:59.99,Caption,,0,0,0,,{\\move(360,832,360,800,0,500)\\b1\\fad(500,0)}Hi \\{\\\u2060pos(0,0)\\}\\\u2060N',
    );
    expect(script).toContain(
      'Dialogue: 0,0:00:01.10,9:59:59.99,Box,,0,0,0,,{\\pos(300,900)\\1c&H332211&\\3c&HFFFFFF&\\3a&H00&\\bord8\\fad(350,0)}Go',
    );
    expect(script).toMatch(/^Style: Box,sans-serif,\d+,.*,3,0,0,8,0,0,0,-1$/m);
    expect(() =>
      assScript({
        width: 10,
        height: 10,
        style: { fontsize: 4, color: 'ffffff' },
        lines: [{ text: 'x', y: Number.NaN }],
      }),
    ).toThrow(/finite/);
  });
});
