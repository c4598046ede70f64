import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogoPosition, logoRect, MediaError } from '../../src/media/index.ts';
import {
  audioPacketsMd5,
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
let card: string;
let logo: string;

const W = 320;
const H = 180;
const BG_RGB: [number, number, number] = [0x20, 0x40, 0xa0];
const LOGO = { widthShare: 0.2, marginShare: 0.05 };

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
  card = join(dir, 'card.mp4');
  await media.renderCard({
    out: card,
    width: W,
    height: H,
    seconds: 1,
    background: '#2040a0',
    lines: [],
  });
  // 64x64: a pure red 48x48 core inside an 8px fully transparent border.
  logo = join(dir, 'logo.png');
  await media.runner.ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'color=c=red:s=48x48,format=rgba,pad=64:64:8:8:color=black@0',
    '-frames:v',
    '1',
    '-y',
    `file:${logo}`,
  ]);
});
afterAll(() => cleanup());

const opposite: Record<LogoPosition, LogoPosition> = {
  'top-left': 'bottom-right',
  'top-right': 'bottom-left',
  'bottom-left': 'top-right',
  'bottom-right': 'top-left',
};

describe('composite', () => {
  it.each(['top-left', 'top-right', 'bottom-left', 'bottom-right'] as const)(
    'puts the logo in the %s corner, keeping its transparency',
    async (position) => {
      const out = join(dir, `logo-${position}.mp4`);
      await media.composite({ input: card, out, logo: { path: logo, position, ...LOGO } });
      const frame = await frameAt(media, out, 0.5);
      const rect = logoRect(
        { width: W, height: H },
        { width: 64, height: 64 },
        { position, ...LOGO },
      );
      expect(rect).toMatchObject({ w: 64, h: 64 });
      const centre = (r: typeof rect): [number, number] => [r.x + r.w / 2, r.y + r.h / 2];
      expect(isRedish(frame.pixel(...centre(rect)))).toBe(true);

      const other = logoRect(
        { width: W, height: H },
        { width: 64, height: 64 },
        {
          position: opposite[position],
          ...LOGO,
        },
      );
      expect(isRedish(frame.pixel(...centre(other)))).toBe(false);

      // Inside the logo's box but on its transparent border: the card shows through, not black.
      const [r, g, b] = frame.pixel(rect.x + 3, rect.y + 3);
      expect(
        Math.abs(r - BG_RGB[0]) + Math.abs(g - BG_RGB[1]) + Math.abs(b - BG_RGB[2]),
      ).toBeLessThan(40);
    },
  );

  it('keeps size, duration and the audio stream bit for bit', async () => {
    const out = join(dir, 'keeps.mp4');
    const result = await media.composite({
      input: card,
      out,
      logo: { path: logo, position: 'top-right' },
      text: { lines: ['Paris only'] },
    });
    const before = await media.probe(card);
    expect(result).toMatchObject({ width: W, height: H, video_codec: 'h264', has_audio: true });
    expect(Math.abs(result.duration_s - before.duration_s)).toBeLessThan(0.05);
    expect(await audioPacketsMd5(media, out)).toBe(await audioPacketsMd5(media, card));
  });

  it('is deterministic', async () => {
    const a = join(dir, 'det-a.mp4');
    const b = join(dir, 'det-b.mp4');
    const opts = {
      input: card,
      logo: { path: logo, position: 'bottom-left' as const },
      text: { lines: ['18+'] },
    };
    await media.composite({ ...opts, out: a });
    await media.composite({ ...opts, out: b });
    expect(await sha256File(a)).toBe(await sha256File(b));
  });

  it('without a partner draws no logo; text goes on a dark band at the bottom', async () => {
    const out = join(dir, 'text-only.mp4');
    await media.composite({
      input: card,
      out,
      logo: null,
      text: { lines: ["Offer valid in Paris: 50% off, T&C's apply \\ 18+"] },
    });
    const frame = await frameAt(media, out, 0.5);
    let red = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (isRedish(frame.pixel(x, y))) red++;
    expect(red).toBe(0);
    const [r, g, b] = frame.pixel(2, H - 3);
    expect(r + g + b).toBeLessThan(BG_RGB[0] + BG_RGB[1] + BG_RGB[2] - 60);
    expect(inkCount(frame, BG_RGB, 0, Math.floor(H / 2))).toBe(0);
    // The band holds white glyphs, not just the box.
    let white = 0;
    for (let y = H - 40; y < H; y++) {
      for (let x = 0; x < W; x++) if (Math.min(...frame.pixel(x, y)) > 200) white++;
    }
    expect(white).toBeGreaterThan(50);
  });

  it('fits a rendition to its frame and lays logo and text out inside it', async () => {
    // The 16:9 card into a 1:1 frame is letterboxed (too far off to crop), and into 9:16 too;
    // the logo and the band are placed for the new frame, so neither is cut off.
    for (const size of [
      { width: 180, height: 180 },
      { width: 180, height: 320 },
    ]) {
      const out = join(dir, `rendition-${size.width}x${size.height}.mp4`);
      const facts = await media.composite({
        input: card,
        out,
        size,
        logo: { path: logo, position: 'top-right', ...LOGO },
        text: { lines: ['Now in Oslo'] },
      });
      expect([facts.width, facts.height]).toEqual([size.width, size.height]);
      const frame = await frameAt(media, out, 0.5);
      const rect = logoRect(size, { width: 64, height: 64 }, { position: 'top-right', ...LOGO });
      expect(rect.x + rect.w).toBeLessThanOrEqual(size.width);
      expect(isRedish(frame.pixel(rect.x + rect.w / 2, rect.y + rect.h / 2))).toBe(true);
      let white = 0;
      for (let y = size.height - 30; y < size.height; y++)
        for (let x = 0; x < size.width; x++) if (Math.min(...frame.pixel(x, y)) > 200) white++;
      expect(white).toBeGreaterThan(20);
    }
  });

  it('moves a bottom logo above a bottom text band', async () => {
    const out = join(dir, 'stacked.mp4');
    await media.composite({
      input: card,
      out,
      logo: { path: logo, position: 'bottom-right', ...LOGO },
      text: { lines: ['legal'] },
    });
    const frame = await frameAt(media, out, 0.5);
    const plain = logoRect(
      { width: W, height: H },
      { width: 64, height: 64 },
      {
        position: 'bottom-right',
        ...LOGO,
      },
    );
    // Where the logo would sit without the band, its lower part is now band, not red.
    expect(isRedish(frame.pixel(plain.x + plain.w / 2, plain.y + plain.h - 6))).toBe(false);
    let top = H;
    for (let y = 0; y < H; y++)
      if (isRedish(frame.pixel(plain.x + plain.w / 2, y))) top = Math.min(top, y);
    expect(top).toBeLessThan(plain.y);
  });

  it('handles a video without audio', async () => {
    const silent = join(dir, 'silent.mp4');
    await media.runner.ffmpeg([
      '-f',
      'lavfi',
      '-i',
      `color=c=0x2040a0:s=${W}x${H}:r=25:d=1`,
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-y',
      `file:${silent}`,
    ]);
    const out = join(dir, 'silent-out.mp4');
    const result = await media.composite({
      input: silent,
      out,
      logo: { path: logo, position: 'top-left' },
    });
    expect(result).toMatchObject({ width: W, height: H, has_audio: false });
  });

  it('re-encodes audio MP4 cannot hold and trims odd sizes to even', async () => {
    const mov = join(dir, 'odd-pcm.mov');
    await media.runner.ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'color=c=0x2040a0:s=322x182:r=25:d=1,format=yuv444p,crop=321:181',
      '-f',
      'lavfi',
      '-i',
      'sine=d=1',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv444p',
      '-c:a',
      'pcm_s16le',
      '-y',
      `file:${mov}`,
    ]);
    expect(await media.probe(mov)).toMatchObject({ width: 321, audio_codec: 'pcm_s16le' });
    const out = join(dir, 'odd-pcm-out.mp4');
    const result = await media.composite({
      input: mov,
      out,
      logo: { path: logo, position: 'top-left' },
    });
    expect(result).toMatchObject({
      width: 320,
      height: 180,
      video_codec: 'h264',
      audio_codec: 'aac',
    });
    expect(result.duration_s).toBeGreaterThan(0.95);
    expect(result.duration_s).toBeLessThan(1.1);
  });

  it('fails with a MediaError naming the problem on a corrupt input, leaving no output', async () => {
    const { dir: own, cleanup: done } = await makeTempDir();
    try {
      const junk = join(own, 'junk.mp4');
      await writeFile(junk, 'this is not a video\n'.repeat(200));
      const err = await media
        .composite({ input: junk, out: join(own, 'out.mp4') })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MediaError);
      const e = err as MediaError;
      expect(e.code).toBe('FAILED');
      expect(e.exitCode).toBe(1);
      expect(e.message).toMatch(/Invalid data found when processing input/);
      expect(e.stderrTail).toContain('junk.mp4');
      expect(await readdir(own)).toEqual(['junk.mp4']);
    } finally {
      await done();
    }
  });

  it('refuses uploads whose demuxer would follow references to other files', async () => {
    // A concat list dressed up as a PNG: ffmpeg would otherwise read the card through it.
    const sneaky = join(dir, 'sneaky-logo.png');
    await writeFile(sneaky, `ffconcat version 1.0\nfile '${card}'\n`);
    const err = await media
      .composite({
        input: card,
        out: join(dir, 'sneaky.mp4'),
        logo: { path: sneaky, position: 'top-left' },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).stderrTail).toMatch(/whitelist/i);
    await expect(
      media.composite({ input: sneaky, out: join(dir, 'sneaky2.mp4') }),
    ).rejects.toBeInstanceOf(MediaError);
  });

  it('rejects a logo share outside 0..1', async () => {
    await expect(
      media.composite({
        input: card,
        out: join(dir, 'bad.mp4'),
        logo: { path: logo, position: 'top-left', widthShare: 1.5 },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('logoRect', () => {
  it('shrinks a tall logo to at most 40% of the frame height', () => {
    const r = logoRect(
      { width: 1280, height: 720 },
      { width: 100, height: 400 },
      { position: 'top-left' },
    );
    expect(r.h).toBeLessThanOrEqual(288);
    expect(r.w % 2).toBe(0);
    expect(r.h % 2).toBe(0);
    expect(r.w / r.h).toBeCloseTo(0.25, 1);
  });
});
