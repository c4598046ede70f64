import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMedia,
  defaultMediaBinaries,
  type Media,
  type MediaDeps,
} from '../../src/media/index.ts';

export function testMedia(overrides: Partial<MediaDeps> = {}): Media {
  return createMedia({ ...defaultMediaBinaries(), ...overrides });
}

export async function makeTempDir(prefix = 'admatrix-media-test-'): Promise<{
  dir: string;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

export interface Frame {
  width: number;
  height: number;
  data: Buffer;
  pixel(x: number, y: number): [number, number, number];
}

/** One decoded frame as packed RGB, for asserting what ended up where. */
export async function frameAt(media: Media, file: string, atSeconds: number): Promise<Frame> {
  const { width, height } = await media.probe(file);
  const { stdout } = await media.runner.ffmpeg(
    [
      '-ss',
      String(atSeconds),
      '-i',
      `file:${file}`,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { captureStdout: true },
  );
  if (stdout.length !== width * height * 3) {
    throw new Error(`expected ${width * height * 3} bytes of RGB, got ${stdout.length}`);
  }
  return {
    width,
    height,
    data: stdout,
    pixel(x, y) {
      const i = (y * width + x) * 3;
      return [stdout[i]!, stdout[i + 1]!, stdout[i + 2]!];
    },
  };
}

/** Pixels in rows [y0, y1) that differ clearly from a reference colour. */
export function inkCount(
  frame: Frame,
  bg: [number, number, number],
  y0: number,
  y1: number,
): number {
  let count = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < frame.width; x++) {
      const [r, g, b] = frame.pixel(x, y);
      if (Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 90) count++;
    }
  }
  return count;
}

export function isRedish([r, g, b]: [number, number, number]): boolean {
  return r > 180 && g < 80 && b < 80;
}

/** Audio packets hashed without decoding: equal hashes mean the stream was copied untouched. */
export async function audioPacketsMd5(media: Media, file: string): Promise<string> {
  const { stdout } = await media.runner.ffmpeg(
    ['-i', `file:${file}`, '-map', '0:a', '-c', 'copy', '-f', 'md5', 'pipe:1'],
    { captureStdout: true },
  );
  return stdout.toString('utf8').trim();
}
