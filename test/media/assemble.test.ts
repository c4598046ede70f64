import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameAt, makeTempDir, sha256File, testMedia } from './helpers.ts';

const media = testMedia();
let dir: string;
let cleanup: () => Promise<void>;
const clips: { path: string; seconds: number }[] = [];

/** Three providers' worth of differences: size, aspect, rate, pixel format, length, colour. */
const sources = [
  { size: '640x360', rate: 25, pix: 'yuv444p', colour: 'red', seconds: 4, made: 4 },
  { size: '720x1280', rate: 30, pix: 'yuv420p', colour: 'green', seconds: 4, made: 4.5 },
  { size: '1080x1920', rate: 24, pix: 'yuv420p', colour: 'blue', seconds: 4, made: 3.8 },
];

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
  for (const [i, s] of sources.entries()) {
    const path = join(dir, `clip${i}.mp4`);
    await media.runner.ffmpeg([
      '-f',
      'lavfi',
      '-i',
      `color=c=${s.colour}:s=${s.size}:r=${s.rate}:d=${s.made}`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      s.pix,
      '-y',
      `file:${path}`,
    ]);
    clips.push({ path, seconds: s.seconds });
  }
}, 60_000);
afterAll(() => cleanup());

const frame = 1 / 30;

describe('assembling a spot from shots of different providers', () => {
  it('normalises size, rate and pixel format and holds each shot to its length when cut', {
    timeout: 60_000,
  }, async () => {
    const out = join(dir, 'cut.mp4');
    const facts = await media.assemble({
      clips,
      out,
      width: 720,
      height: 1280,
      transition: { type: 'cut', seconds: 0 },
    });
    expect(facts).toMatchObject({ width: 720, height: 1280 });
    // The 4.5 s clip is cut to 4 s, the 3.8 s clip held on its last frame to 4 s.
    expect(Math.abs(facts.duration_s - 12)).toBeLessThanOrEqual(frame);
    // Each shot sits where the cuts put it: red, then green, then blue.
    const mid = async (t: number) => (await frameAt(media, out, t)).pixel(360, 640);
    const [r0, , b0] = await mid(2);
    const [, g1] = await mid(6);
    const [, , b2] = await mid(10);
    expect(r0).toBeGreaterThan(200);
    expect(b0).toBeLessThan(60);
    expect(g1).toBeGreaterThan(100);
    expect(b2).toBeGreaterThan(200);
  });

  it('crossfades with offsets on the first input timeline, to the same bytes every time', {
    timeout: 90_000,
  }, async () => {
    const spec = {
      clips,
      width: 720,
      height: 1280,
      transition: { type: 'fade', seconds: 1 },
    } as const;
    const a = await media.assemble({ ...spec, out: join(dir, 'fade-a.mp4') });
    await media.assemble({ ...spec, out: join(dir, 'fade-b.mp4') });
    // 3 x 4 s less two 1 s overlaps.
    expect(Math.abs(a.duration_s - 10)).toBeLessThanOrEqual(frame);
    expect(await sha256File(join(dir, 'fade-a.mp4'))).toBe(
      await sha256File(join(dir, 'fade-b.mp4')),
    );
    // The first fade runs 3 s to 4 s: halfway, red and green mix; after it, green alone.
    const [r, g] = (await frameAt(media, join(dir, 'fade-a.mp4'), 3.5)).pixel(360, 640);
    expect(r).toBeGreaterThan(60);
    expect(g).toBeGreaterThan(30);
    const [r2] = (await frameAt(media, join(dir, 'fade-a.mp4'), 5)).pixel(360, 640);
    expect(r2).toBeLessThan(30);
  });
});
