/**
 * Signing a variant's content credentials against the compositing step alone, in the same run
 * (target: signing adds at most 10%). `node bench/run.ts provenance`. Also a spot (three 4 s
 * shots cut together, each read and hashed as an ingredient) against its assembly and
 * compositing, and one of its renditions (1:1, 720x720) against that rendition's compositing.
 *
 * The input is a 4 s 720x1280 render with detail (mandelbrot, so the encoder has work and the
 * file a realistic size); compositing draws a logo and a text line on it, as the pipeline does.
 * Signing is the real path (src/provenance: read the file, hash the render and logo, build the
 * manifest, c2pa-rs hashes the MP4 boxes, COSE signature, write): its CPU is this process's,
 * compositing's is ffmpeg's and ffprobe's (reaped children) plus this process's.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretBox } from '../src/crypto/secrets.ts';
import type { Db } from '../src/db/client.ts';
import { DEFAULT_ENCODER, fileArg, h264Args, mp4MuxArgs } from '../src/media/ffmpeg.ts';
import { createMedia, defaultMediaBinaries } from '../src/media/index.ts';
import { makeDevelopmentChain } from '../src/provenance/dev-chain.ts';
import { ADMATRIX_VERSION } from '../src/provenance/manifest.ts';
import type { SpotShotFile } from '../src/provenance/repository.ts';
import { createProvenance } from '../src/provenance/service.ts';
import { signVariantFile } from '../src/provenance/variant.ts';
import { childCpuSeconds, measureMedian } from './cpu.ts';

const RUNS = Number(process.env.PROVENANCE_RUNS ?? 7);

const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const measure = (fn: () => Promise<unknown>) =>
  measureMedian(fn, RUNS, () => childCpuSeconds() + ownCpuSeconds());

export async function main() {
  const media = createMedia(defaultMediaBinaries());
  const dir = await mkdtemp(join(tmpdir(), 'amx-bench-provenance-'));
  try {
    const render = join(dir, 'render.mp4');
    await media.runner.ffmpeg([
      ...['-f', 'lavfi', '-i', 'mandelbrot=s=720x1280:r=25', '-t', '4'],
      ...h264Args(DEFAULT_ENCODER),
      ...mp4MuxArgs(),
      ...['-y', fileArg(render)],
    ]);
    const logo = join(dir, 'logo.png');
    await media.runner.ffmpeg([
      ...['-f', 'lavfi', '-i', 'color=c=red:s=256x256', '-frames:v', '1'],
      ...['-y', fileArg(logo)],
    ]);
    const composited = join(dir, 'final.mp4');
    const composite = await measure(() =>
      media.composite({
        input: render,
        out: composited,
        logo: { path: logo, position: 'top-right' },
        text: { lines: ['Now in Paris'] },
      }),
    );
    const chain = makeDevelopmentChain();
    const provenance = createProvenance({
      // A configured chain: the development one would be read from Postgres once, then cached.
      db: undefined as unknown as Db,
      box: createSecretBox(undefined),
      config: { C2PA_SIGN_CERT: chain.certPem, C2PA_SIGN_KEY: chain.keyPem },
      version: ADMATRIX_VERSION,
    });
    // The WebAssembly module compiles once per process: timed apart from the steady state.
    const t0 = performance.now();
    const sign = () =>
      signVariantFile(provenance, {
        variant: {
          id: 'var_bench',
          campaign_id: 'cmp_bench',
          run_id: 'run_bench',
          provider: 'openai',
          model: 'sora-2',
        },
        dir,
        file: composited,
        render,
        images: [{ title: 'logo', role: 'overlay', path: logo }],
        text: true,
        disclosure: false,
      });
    await sign();
    const firstMs = performance.now() - t0;
    const signing = await measure(sign);
    const bytes = (await stat(composited)).size;
    const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`;

    // A spot: three distinct shots (ingredients by hash and bytes), assembled, then composited.
    const shots: SpotShotFile[] = [];
    for (const [i, key] of ['opening', 'street', 'endcard'].entries()) {
      const path = join(dir, `shot-${key}.mp4`);
      await media.runner.ffmpeg([
        ...['-f', 'lavfi', '-i', `mandelbrot=s=720x1280:r=25:start_scale=${3 - i * 0.5}`],
        ...['-t', '4', ...h264Args(DEFAULT_ENCODER), ...mp4MuxArgs(), '-y', fileArg(path)],
      ]);
      shots.push({ id: `sht_${key}`, key, provider: 'openai', model: 'sora-2', path });
    }
    const assembled = join(dir, 'spot-assembled.mp4');
    const spotFile = join(dir, 'spot.mp4');
    const overlay = {
      logo: { path: logo, position: 'top-right' as const },
      text: { lines: ['Now in Paris'] },
    };
    const spotCompositing = await measure(async () => {
      await media.assemble({
        clips: shots.map((c) => ({ path: c.path, seconds: 4 })),
        out: assembled,
        width: 720,
        height: 1280,
        transition: { type: 'cut', seconds: 0 },
      });
      await media.composite({ input: assembled, out: spotFile, ...overlay });
    });
    const spotCredentials = {
      variant: {
        id: 'var_spot',
        campaign_id: 'cmp_bench',
        run_id: 'run_bench',
        provider: 'openai',
        model: 'sora-2',
      },
      dir,
      render: null,
      shots,
      images: [{ title: 'logo', role: 'overlay' as const, path: logo }],
      text: true,
      disclosure: false,
    };
    const spotSigning = await measure(() =>
      signVariantFile(provenance, {
        ...spotCredentials,
        file: spotFile,
        out: join(dir, 'spot-signed.mp4'),
      }),
    );
    // One of its renditions: composited from the assembly at its own frame, signed to its path.
    const renditionFile = join(dir, 'rendition.unsigned.mp4');
    const renditionCompositing = await measure(() =>
      media.composite({
        input: assembled,
        out: renditionFile,
        size: { width: 720, height: 720 },
        ...overlay,
      }),
    );
    const renditionSigning = await measure(() =>
      signVariantFile(provenance, {
        ...spotCredentials,
        file: renditionFile,
        out: join(dir, 'rendition.mp4'),
      }),
    );
    const spotBytes = (await stat(spotFile)).size;
    const renditionBytes = (await stat(renditionFile)).size;
    console.log(`4 s 720x1280 variant, ${(bytes / 1e6).toFixed(2)} MB, median of ${RUNS}`);
    console.log(
      `compositing (logo + text, probe): ${composite.wall.toFixed(3)} s wall, ${composite.cpu.toFixed(3)} s CPU`,
    );
    console.log(
      `signing (hash, manifest, COSE, write): ${signing.wall.toFixed(3)} s wall, ${signing.cpu.toFixed(3)} s CPU`,
    );
    console.log(
      `signing / compositing: ${pct(signing.wall, composite.wall)} wall, ${pct(signing.cpu, composite.cpu)} CPU (target <= 10%); first signature in a process ${firstMs.toFixed(0)} ms (WebAssembly compile)`,
    );
    console.log(
      `spot, 3 x 4 s shots cut, ${(spotBytes / 1e6).toFixed(2)} MB: assembly + compositing ${spotCompositing.wall.toFixed(3)} s wall, ${spotCompositing.cpu.toFixed(3)} s CPU; signing (3 shots + logo as ingredients) ${spotSigning.wall.toFixed(3)} s wall, ${spotSigning.cpu.toFixed(3)} s CPU: ${pct(spotSigning.wall, spotCompositing.wall)} wall, ${pct(spotSigning.cpu, spotCompositing.cpu)} CPU`,
    );
    console.log(
      `rendition 1:1 720x720, ${(renditionBytes / 1e6).toFixed(2)} MB: compositing ${renditionCompositing.wall.toFixed(3)} s wall, ${renditionCompositing.cpu.toFixed(3)} s CPU; signing ${renditionSigning.wall.toFixed(3)} s wall, ${renditionSigning.cpu.toFixed(3)} s CPU: ${pct(renditionSigning.wall, renditionCompositing.wall)} wall, ${pct(renditionSigning.cpu, renditionCompositing.cpu)} CPU`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
