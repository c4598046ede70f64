import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureFile } from '../../src/media/audio-bed.ts';
import { endCardCaptions } from '../../src/media/end-card.ts';
import {
  audioPacketsMd5,
  type Frame,
  frameAt,
  inkCount,
  makeTempDir,
  sha256File,
  testMedia,
} from './helpers.ts';

const media = testMedia();
let dir: string;
let cleanup: () => Promise<void>;
const clips: { path: string; seconds: number }[] = [];
let logo: string;
/** A loud bed, well over the target, shorter than the spot so it must loop. */
let bed: string;
/** A quiet one, longer than the spot so it must be trimmed. */
let quietBed: string;

const lavfi = (spec: string, out: string, extra: string[] = []) =>
  media.runner.ffmpeg(['-f', 'lavfi', '-i', spec, ...extra, '-y', `file:${out}`]);

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
  for (const [i, colour] of ['red', 'green'].entries()) {
    const path = join(dir, `clip${i}.mp4`);
    await lavfi(`color=c=${colour}:s=720x1280:r=30:d=3`, path, [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
    ]);
    clips.push({ path, seconds: 3 });
  }
  logo = join(dir, 'logo.png');
  await lavfi('color=c=yellow:s=200x100', logo, ['-frames:v', '1']);
  bed = join(dir, 'bed.wav');
  await lavfi('sine=f=220:d=2.3:sample_rate=44100', bed, ['-af', 'volume=0.9']);
  quietBed = join(dir, 'quiet.mp3');
  await lavfi('anoisesrc=d=20:c=pink:a=0.02:seed=7', quietBed, ['-c:a', 'libmp3lame']);
}, 60_000);
afterAll(() => cleanup());

const frame = 1 / 30;
const endCard = {
  seconds: 2,
  background: '#1030c0',
  lines: ['Book now in Tokyo', '東京'],
  legal: ['Terms apply. 18+'],
  logo: '' as string | null,
};

describe('a spot with an end card and an audio bed', () => {
  it('lasts shots − fades + card, the card follows the last shot, and the bed measures −14 LUFS', {
    timeout: 120_000,
  }, async () => {
    const spec = {
      clips,
      width: 720,
      height: 1280,
      transition: { type: 'fade', seconds: 0.5 },
      endCard: { ...endCard, logo },
      audio: { path: bed, gainDb: 6 },
    } as const;
    const a = await media.assemble({ ...spec, out: join(dir, 'a.mp4') });
    await media.assemble({ ...spec, out: join(dir, 'b.mp4') });
    // 3 + 3 − 0.5 + 2.
    expect(Math.abs(a.duration_s - 7.5)).toBeLessThanOrEqual(frame);
    expect(a).toMatchObject({ width: 720, height: 1280, audio_codec: 'aac' });
    expect(await sha256File(join(dir, 'a.mp4'))).toBe(await sha256File(join(dir, 'b.mp4')));

    // Green up to 5.5 s, then the blue card with the yellow logo and white text.
    const last = await frameAt(media, join(dir, 'a.mp4'), 5.3);
    const card = await frameAt(media, join(dir, 'a.mp4'), 6.5);
    const [, g, b] = last.pixel(360, 200);
    expect(g).toBeGreaterThan(100);
    expect(b).toBeLessThan(60);
    const [cr, cg, cb] = card.pixel(10, 10);
    expect(cb).toBeGreaterThan(150);
    expect(cr + cg).toBeLessThan(150);
    const [lr, lg, lb] = card.pixel(360, Math.round(1280 * 0.32));
    expect(lr).toBeGreaterThan(200);
    expect(lg).toBeGreaterThan(200);
    expect(lb).toBeLessThan(80);
    // Text on the card: ink against the background in the CTA and legal regions.
    const bg: [number, number, number] = [cr, cg, cb];
    expect(inkCount(card, bg, 700, 900)).toBeGreaterThan(500);
    expect(inkCount(card, bg, 1150, 1280)).toBeGreaterThan(100);
    // The card's frame is not the last shot's: most sampled pixels differ clearly.
    let differ = 0;
    let sampled = 0;
    for (let y = 0; y < 1280; y += 16)
      for (let x = 0; x < 720; x += 16) {
        const p = card.pixel(x, y);
        const q = last.pixel(x, y);
        sampled++;
        if (Math.abs(p[0] - q[0]) + Math.abs(p[1] - q[1]) + Math.abs(p[2] - q[2]) > 90) differ++;
      }
    expect(differ).toBeGreaterThan(sampled * 0.9);

    const loud = await measureFile(media.runner.ffmpeg, join(dir, 'a.mp4'));
    expect(Math.abs(loud.input_i + 14)).toBeLessThanOrEqual(1);
    expect(loud.input_tp).toBeLessThanOrEqual(-1);
  });

  it('trims a long bed, draws no logo without one, and a cut join keeps the sum', {
    timeout: 120_000,
  }, async () => {
    const facts = await media.assemble({
      clips,
      out: join(dir, 'cut.mp4'),
      width: 720,
      height: 1280,
      transition: { type: 'cut', seconds: 0 },
      endCard: { ...endCard, logo: null, background: '#f0f0f0' },
      audio: { path: quietBed, gainDb: -6 },
    });
    expect(Math.abs(facts.duration_s - 8)).toBeLessThanOrEqual(frame);
    const card = await frameAt(media, join(dir, 'cut.mp4'), 7);
    // Light background: dark text, no yellow logo.
    const [lr, lg, lb] = card.pixel(360, Math.round(1280 * 0.32));
    expect(Math.min(lr, lg, lb)).toBeGreaterThan(200);
    expect(inkCount(card, [240, 240, 240], 450, 750)).toBeGreaterThan(500);
    const loud = await measureFile(media.runner.ffmpeg, join(dir, 'cut.mp4'));
    expect(Math.abs(loud.input_i + 14)).toBeLessThanOrEqual(1);
    expect(loud.input_tp).toBeLessThanOrEqual(-1);
  });

  it('the overlay composite keeps the bed and leaves the card undrawn', {
    timeout: 120_000,
  }, async () => {
    const input = join(dir, 'a.mp4');
    const out = join(dir, 'overlaid.mp4');
    const facts = await media.composite({
      input,
      out,
      logo: { path: logo, position: 'top-left' },
      text: { lines: ['Now in Oslo'] },
      until: 5.5,
    });
    expect(Math.abs(facts.duration_s - 7.5)).toBeLessThanOrEqual(frame);
    expect(facts.audio_codec).toBe('aac');
    expect(await audioPacketsMd5(media, out)).toBe(await audioPacketsMd5(media, input));
    const before = await frameAt(media, out, 2);
    const after = await frameAt(media, out, 7);
    // The corner logo is on the shots, not on the card.
    const [r, g, b] = before.pixel(60, 60);
    expect(r + g).toBeGreaterThan(400);
    expect(b).toBeLessThan(80);
    const [, , cb] = after.pixel(60, 60);
    expect(cb).toBeGreaterThan(150);
  });

  it('the AI label runs on over the card, clear of its small print, where the band stops', {
    timeout: 120_000,
  }, async () => {
    const input = join(dir, 'a.mp4');
    const overlay = {
      input,
      logo: { path: logo, position: 'top-left' as const },
      text: { lines: ['Now in Oslo'] },
      until: 5.5,
    };
    const label = { text: 'AI-generated', position: 'bottom-left' as const };
    const whole = join(dir, 'labelled.mp4');
    await media.composite({ ...overlay, out: whole, disclosure: { ...label, seconds: null } });
    const shot = await frameAt(media, whole, 2);
    const card = await frameAt(media, whole, 7);
    // The label's box is the only opaque black in either frame (red shot, blue card).
    const black = (f: Frame) => {
      let box: { y0: number; y1: number; n: number } | null = null;
      for (let y = 0; y < f.height; y++)
        for (let x = 0; x < f.width / 2; x++) {
          const [r, g, b] = f.pixel(x, y);
          if (r + g + b >= 45) continue;
          box ??= { y0: y, y1: y, n: 0 };
          box.y1 = y;
          box.n++;
        }
      return box;
    };
    const onShot = black(shot);
    expect(onShot?.n).toBeGreaterThan(300);
    // The same box in the same place (its pixel count within the encoder's noise).
    const sameAsShot = (box: ReturnType<typeof black>) => {
      expect(box && [box.y0, box.y1]).toEqual([onShot!.y0, onShot!.y1]);
      expect(Math.abs(box!.n - onShot!.n)).toBeLessThan(onShot!.n * 0.02);
    };
    const onCard = black(card);
    sameAsShot(onCard);
    // Above the card's legal lines (the last caption line, drawn small at the foot).
    const legalTop = endCardCaptions(endCard, 720, 1280, true).lines.at(-1)!.y;
    expect(onCard!.y1).toBeLessThan(legalTop);
    // The band darkens the shot's foot; the card's foot keeps its own blue.
    expect(shot.pixel(700, 1275)[0]).toBeLessThan(150);
    expect(shot.pixel(700, 1000)[0]).toBeGreaterThan(200);
    const [r, g, b] = card.pixel(700, 1275);
    expect(b).toBeGreaterThan(150);
    expect(r + g).toBeLessThan(150);

    // A label limited to its first seconds is gone before the card.
    const brief = join(dir, 'labelled-3s.mp4');
    await media.composite({ ...overlay, out: brief, disclosure: { ...label, seconds: 3 } });
    sameAsShot(black(await frameAt(media, brief, 2)));
    expect(black(await frameAt(media, brief, 7))).toBeNull();
  });
});
