import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ffmpeg from '@ffmpeg-installer/ffmpeg';

const run = promisify(execFile);

export type Variant = 'video' | 'thumbnail' | 'spritesheet';

export const VARIANTS: readonly Variant[] = ['video', 'thumbnail', 'spritesheet'];

/** The real API serves a WebP thumbnail and a JPEG spritesheet next to the MP4. */
export const CONTENT_TYPES: Record<Variant, string> = {
  video: 'video/mp4',
  thumbnail: 'image/webp',
  spritesheet: 'image/jpeg',
};

export interface MediaSpec {
  width: number;
  height: number;
  seconds: number;
}

export const TINY: MediaSpec = { width: 64, height: 64, seconds: 1 };

/** Falls back to TINY for sizes/durations ffmpeg could not render as asked (odd or custom values). */
export function specFor(size: string, seconds: string): MediaSpec {
  const m = /^(\d+)x(\d+)$/.exec(size);
  const s = Number(seconds);
  if (!m || !(s > 0) || s > 60) return TINY;
  const width = Number(m[1]);
  const height = Number(m[2]);
  // libx264 with yuv420p needs even dimensions.
  if (width % 2 || height % 2 || width > 4096 || height > 4096) return TINY;
  return { width, height, seconds: s };
}

function args(variant: Variant, spec: MediaSpec, out: string): string[] {
  const size = `${spec.width}x${spec.height}`;
  const common = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'];
  if (variant === 'video') {
    // faststart needs a seekable output, hence a temp file rather than a pipe.
    return [
      ...common,
      '-i',
      `color=c=0x3366cc:s=${size}:d=${spec.seconds}:r=24`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      out,
    ];
  }
  const codec = variant === 'thumbnail' ? 'libwebp' : 'mjpeg';
  return [...common, '-i', `color=c=0x3366cc:s=${size}`, '-frames:v', '1', '-c:v', codec, out];
}

async function render(variant: Variant, spec: MediaSpec): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-video-'));
  const out = join(
    dir,
    variant === 'video' ? 'out.mp4' : variant === 'thumbnail' ? 'out.webp' : 'out.jpg',
  );
  try {
    await run(ffmpeg.path, args(variant, spec, out));
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Process-wide: the bytes never change, so every server instance shares them.
const cache = new Map<string, Promise<Buffer>>();

export function media(variant: Variant, spec: MediaSpec = TINY): Promise<Buffer> {
  const key = `${variant}:${spec.width}x${spec.height}:${spec.seconds}`;
  let p = cache.get(key);
  if (!p) {
    p = render(variant, spec);
    // A failed ffmpeg run must not poison the cache for later requests.
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/** True when the bytes start with an ISO-BMFF `ftyp` box, i.e. look like an MP4. */
export function hasFtyp(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(4, 8)).toString('latin1') === 'ftyp';
}

/** A real PNG of this size (a solid colour), for first-frame tests. */
export async function pngImage(width: number, height: number, colour = 'red'): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-image-'));
  const out = join(dir, 'out.png');
  try {
    await run(ffmpeg.path, [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
      ...['-i', `color=c=${colour}:s=${width}x${height}`, '-frames:v', '1', out],
    ]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
