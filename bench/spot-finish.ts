/**
 * Spot end card and audio bed (issue 12): assembly CPU per variant (3 x 4 s 720x1280 shots cut
 * together, ffmpeg children's CPU) with a 2 s end card (logo, CTA, legal line) and an audio bed
 * (looped, faded, two-pass loudnorm, AAC) against plain assembly of the same shots, measured in
 * the same run, interleaved so load drifts hit both alike.
 * `node bench/run.ts spot-finish`
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMedia, defaultMediaBinaries } from '../src/media/index.ts';

const ticks = 100; // USER_HZ on Linux
const childCpu = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / ticks;
};

export async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'amx-bench-finish-'));
  const media = createMedia(defaultMediaBinaries());
  const make = (out: string, source: string, extra: string[]) =>
    media.runner.ffmpeg(['-f', 'lavfi', '-i', source, ...extra, '-y', `file:${out}`]);
  try {
    const clips = [];
    for (const [i, src] of ['testsrc2', 'smptebars', 'testsrc'].entries()) {
      const path = join(dir, `shot-${i}.mp4`);
      await make(path, `${src}=s=720x1280:r=30:d=4`, ['-c:v', 'libx264', '-preset', 'veryfast']);
      clips.push({ path, seconds: 4 });
    }
    const logo = join(dir, 'logo.png');
    await make(logo, 'testsrc=s=400x200', ['-frames:v', '1']);
    const bed = join(dir, 'bed.mp3');
    await make(bed, 'anoisesrc=d=5:c=pink:a=0.3:seed=1', ['-c:a', 'libmp3lame']);
    const base = {
      clips,
      width: 720,
      height: 1280,
      transition: { type: 'cut', seconds: 0 },
    } as const;
    const finish = {
      endCard: {
        seconds: 2,
        background: '#102040',
        lines: ['Book now in Oslo', 'Fizz, ice cold'],
        legal: ['Terms apply. Offer ends 31 March.'],
        logo,
      },
      audio: { path: bed, gainDb: 0 },
    };
    const reps = 3;
    let plain = 0;
    let full = 0;
    for (let i = 0; i < reps; i++) {
      const p0 = childCpu();
      await media.assemble({ ...base, out: join(dir, `plain-${i}.mp4`) });
      plain += childCpu() - p0;
      const f0 = childCpu();
      await media.assemble({ ...base, ...finish, out: join(dir, `full-${i}.mp4`) });
      full += childCpu() - f0;
    }
    plain /= reps;
    full /= reps;
    console.log(
      `  assembly       ${full.toFixed(2)} CPU-s per variant with a 2 s end card and an audio bed (14 s out) vs ${plain.toFixed(2)} plain (12 s): ${(full / plain).toFixed(2)}x`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
