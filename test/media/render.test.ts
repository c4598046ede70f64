import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colourFor, defaultMediaBinaries, MediaError } from '../../src/media/index.ts';
import { frameAt, inkCount, makeTempDir, sha256File, testMedia } from './helpers.ts';

const media = testMedia();
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

const BG = '#2040a0';
const BG_RGB: [number, number, number] = [0x20, 0x40, 0xa0];
const small = { width: 320, height: 180, seconds: 1, background: BG };

describe('renderCard', () => {
  it('writes an H.264 MP4 with the requested size and duration and an audio track', async () => {
    const out = join(dir, 'card.mp4');
    const result = await media.renderCard({
      ...small,
      seconds: 1.5,
      out,
      lines: ['Summer', 'beach'],
    });
    const probed = await media.probe(out);
    expect(result).toEqual(probed);
    expect(probed).toMatchObject({ width: 320, height: 180, video_codec: 'h264', has_audio: true });
    expect(probed.duration_s).toBeGreaterThan(1.4);
    expect(probed.duration_s).toBeLessThan(1.6);
    expect(probed.bytes).toBeGreaterThan(1000);
    // faststart: the moov box precedes mdat, so players can start before the download ends.
    const head = (await readFile(out)).subarray(0, 4096).toString('latin1');
    expect(head.indexOf('moov')).toBeGreaterThan(-1);
    expect(head.indexOf('moov')).toBeLessThan(
      head.indexOf('mdat') === -1 ? 4096 : head.indexOf('mdat'),
    );
  });

  it('is deterministic: the same input gives the same bytes', async () => {
    const a = join(dir, 'det-a.mp4');
    const b = join(dir, 'det-b.mp4');
    const input = { ...small, lines: ['Level: winter', 'snow, ski'] };
    await media.renderCard({ ...input, out: a });
    await media.renderCard({ ...input, out: b });
    expect(await sha256File(a)).toBe(await sha256File(b));
    await media.renderCard({ ...input, lines: ['Level: summer'], out: b });
    expect(await sha256File(a)).not.toBe(await sha256File(b));
  });

  it("draws captions with : ' % \\ , verbatim", async () => {
    const plain = join(dir, 'plain.mp4');
    const tricky = join(dir, 'tricky.mp4');
    await media.renderCard({ ...small, out: plain, lines: ['x'] });
    await media.renderCard({ ...small, out: tricky, lines: ["x: 'a' 50% \\ b, c"] });
    const rows = Math.floor(small.height * 0.9);
    const plainInk = inkCount(await frameAt(media, plain, 0.5), BG_RGB, 0, rows);
    const trickyInk = inkCount(await frameAt(media, tricky, 0.5), BG_RGB, 0, rows);
    expect(plainInk).toBeGreaterThan(0);
    // Text cut at the colon or swallowed by escaping would leave about as much ink as "x".
    expect(trickyInk).toBeGreaterThan(plainInk * 6);
  });

  it('does not expand %{…} sequences in captions', async () => {
    const out = join(dir, 'pts.mp4');
    await media.renderCard({ ...small, out, lines: ['%{pts} %{n}'] });
    const early = await frameAt(media, out, 0.1);
    const late = await frameAt(media, out, 0.8);
    const rows = Math.floor(small.height * 0.9);
    expect(inkCount(early, BG_RGB, 0, rows)).toBeGreaterThan(100);
    // Expanded, the text would be a timestamp and frame number that change between frames.
    let changed = 0;
    for (let i = 0; i < rows * small.width * 3; i++) {
      if (Math.abs(early.data[i]! - late.data[i]!) > 60) changed++;
    }
    expect(changed).toBeLessThan(20);
  });

  it('copes with quotes, colons, brackets, <&> and backslashes in the font and temp paths', async () => {
    const weird = join(dir, "we'ird, [dir]: x;% <&> \\");
    await mkdir(weird);
    const shipped = defaultMediaBinaries().fonts;
    const dejavu = join(shipped.dirs[0]!, 'DejaVuSans.ttf');
    await copyFile(dejavu, join(weird, "font: it's.ttf"));
    const odd = testMedia({ fonts: { dirs: [weird], families: ['DejaVu Sans'] }, tmpDir: weird });
    const out = join(weird, 'out: 100%.mp4');
    await odd.renderCard({ ...small, out, lines: ['hello'] });
    const ink = inkCount(await frameAt(odd, out, 0.5), BG_RGB, 0, Math.floor(small.height * 0.9));
    expect(ink).toBeGreaterThan(50);
    // Caption files are gone once the render is done.
    expect((await readdir(weird)).sort()).toEqual(["font: it's.ttf", 'out: 100%.mp4']);
  });

  it('picks dark captions on a light background', async () => {
    const out = join(dir, 'light.mp4');
    await media.renderCard({ ...small, background: 'f0f0f0', out, lines: ['dark text'] });
    const frame = await frameAt(media, out, 0.5);
    let darkest = 255;
    for (let y = 0; y < frame.height * 0.9; y++) {
      for (let x = 0; x < frame.width; x++) darkest = Math.min(darkest, frame.pixel(x, y)[0]);
    }
    expect(darkest).toBeLessThan(60);
  });

  it('rejects odd sizes, bad colours and bad durations before running ffmpeg', async () => {
    const out = join(dir, 'never.mp4');
    const base = { ...small, out, lines: [] };
    await expect(media.renderCard({ ...base, width: 321 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(media.renderCard({ ...base, background: 'red' })).rejects.toBeInstanceOf(
      MediaError,
    );
    await expect(media.renderCard({ ...base, seconds: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect((await readdir(dir)).includes('never.mp4')).toBe(false);
  });

  it('leaves neither output nor temp files behind when killed mid-render', async () => {
    const { dir: own, cleanup: done } = await makeTempDir();
    try {
      const slow = testMedia({ timeoutMs: 300, tmpDir: own });
      const out = join(own, 'long.mp4');
      const err = await slow
        .renderCard({ width: 640, height: 360, seconds: 120, background: BG, out, lines: ['x'] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MediaError);
      expect((err as MediaError).code).toBe('TIMEOUT');
      expect(await readdir(own)).toEqual([]);
    } finally {
      await done();
    }
  });
});

describe('thumbnail', () => {
  it('writes a JPEG of an early frame, optionally scaled', async () => {
    const video = join(dir, 'thumb-src.mp4');
    await media.renderCard({ ...small, out: video, lines: ['thumb'] });
    const jpg = join(dir, 'thumb 50%.jpg');
    await media.thumbnail(video, jpg, { width: 160 });
    const bytes = await readFile(jpg);
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(await media.probe(jpg)).toMatchObject({ width: 160, height: 90, video_codec: 'mjpeg' });
  });
});

describe('colourFor', () => {
  it('is stable per key, differs across keys, and stays dark enough for white text', () => {
    expect(colourFor('level:summer')).toBe(colourFor('level:summer'));
    const colours = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => colourFor(k)));
    expect(colours.size).toBeGreaterThan(6);
    for (const c of colours) {
      expect(c).toMatch(/^#[0-9a-f]{6}$/);
      const n = Number.parseInt(c.slice(1), 16);
      const luma = 0.2126 * ((n >> 16) & 255) + 0.7152 * ((n >> 8) & 255) + 0.0722 * (n & 255);
      expect(luma).toBeLessThan(140);
      expect(luma).toBeGreaterThan(25);
    }
  });
});
