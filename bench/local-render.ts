/**
 * The local renderer's CPU per 4 s 720x1280 shot (target: at most 2 s on a 2-core machine),
 * against a bare ffmpeg colour-card encode of the same size and encoder settings in the same
 * run. Prints, never asserts: `node bench/run.ts local-render` (about a minute).
 *
 * CPU is what the ffmpeg and ffprobe children used, user plus system: Node reaps its children,
 * so their times land in this process's cutime/cstime (/proc/self/stat, in USER_HZ = 1/100 s
 * ticks on Linux). Wall time is printed too but depends on what else the machine runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ENCODER, fileArg, h264Args, mp4MuxArgs } from '../src/media/ffmpeg.ts';
import { createMedia, defaultMediaBinaries } from '../src/media/index.ts';
import { measureMedian } from './cpu.ts';

const W = 720;
const H = 1280;
const SECONDS = 4;
const FPS = 25;
const RUNS = Number(process.env.LOCAL_RENDER_RUNS ?? 5);

const measure = (fn: () => Promise<unknown>) => measureMedian(fn, RUNS);

export async function main() {
  const media = createMedia(defaultMediaBinaries());
  const dir = await mkdtemp(join(tmpdir(), 'amx-bench-local-'));
  try {
    // A detailed product shot (fractal): flat test cards flatter the encoder.
    const product = join(dir, 'product.png');
    await media.runner.ffmpeg([
      ...['-f', 'lavfi', '-i', 'mandelbrot=s=1200x1200:end_pts=1', '-frames:v', '1'],
      ...['-y', fileArg(product)],
    ]);
    const out = (name: string) => join(dir, `${name}.mp4`);
    const text = {
      kicker: 'Playful · Paris',
      headline: 'Cold brew that wakes the whole city up',
      cta: 'Order now',
      seed: 'var_bench',
      background: '#2a4d7a',
    };
    const rows: [string, Awaited<ReturnType<typeof measure>>][] = [];
    const floor = await measure(() =>
      media.runner.ffmpeg([
        ...['-f', 'lavfi', '-i', `color=c=0x2a4d7a:s=${W}x${H}:r=${FPS}:d=${SECONDS}`],
        ...h264Args(DEFAULT_ENCODER),
        ...mp4MuxArgs(),
        ...['-y', fileArg(out('floor'))],
      ]),
    );
    rows.push(['floor: bare colour card encode', floor]);
    rows.push([
      'motion-v1 with product image',
      await measure(() =>
        media.renderMotion({
          out: out('motion'),
          width: W,
          height: H,
          seconds: SECONDS,
          image: product,
          ...text,
        }),
      ),
    ]);
    rows.push([
      'motion-v1 without image (palette)',
      await measure(() =>
        media.renderMotion({ out: out('palette'), width: W, height: H, seconds: SECONDS, ...text }),
      ),
    ]);
    rows.push([
      'card-v1 (title card)',
      await measure(() =>
        media.renderCard({
          out: out('card'),
          width: W,
          height: H,
          seconds: SECONDS,
          background: '#2a4d7a',
          lines: ['Playful', 'Paris'],
        }),
      ),
    ]);
    // The two ways to move over a still, without text: what the template's choice rests on.
    const still = `[0:v]scale=${Math.round(W * 1.1)}:${Math.round(H * 1.1)},format=yuv420p`;
    const last = SECONDS * FPS - 1;
    const moves = {
      'move only: scale per frame + crop': `${still},loop=loop=${last}:size=1,setpts=N/${FPS}/TB,scale=w='2*trunc(${W}*(1+0.08*n/${last})/2)':h='2*trunc(${H}*(1+0.08*n/${last})/2)':eval=frame:flags=bicubic,crop=${W}:${H},format=yuv420p[v]`,
      'move only: zoompan': `${still},zoompan=z='1+0.08*on/${last}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=${last + 1}:s=${W}x${H}:fps=${FPS},format=yuv420p[v]`,
    };
    for (const [name, graph] of Object.entries(moves)) {
      rows.push([
        name,
        await measure(() =>
          media.runner.ffmpeg([
            ...['-i', fileArg(product), '-filter_complex', graph, '-map', '[v]'],
            ...['-frames:v', String(last + 1)],
            ...h264Args(DEFAULT_ENCODER),
            ...mp4MuxArgs(),
            ...['-y', fileArg(out('move'))],
          ]),
        ),
      ]);
    }
    console.log(
      `${W}x${H}, ${SECONDS} s at ${FPS} fps, x264 ${DEFAULT_ENCODER.preset} threads ${DEFAULT_ENCODER.threads}; median of ${RUNS}`,
    );
    for (const [name, r] of rows) {
      console.log(
        `${name.padEnd(40)} cpu ${r.cpu.toFixed(2)} s  (${(r.cpu / floor.cpu).toFixed(2)}x floor)  wall ${r.wall.toFixed(2)} s`,
      );
    }
    const motion = rows[1]![1].cpu;
    console.log(`target: motion-v1 <= 2.00 s CPU per shot: ${motion <= 2 ? 'met' : 'MISSED'}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
