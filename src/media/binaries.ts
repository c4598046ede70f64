import { createRequire } from 'node:module';

export interface MediaBinaries {
  ffmpegPath: string;
  ffprobePath: string;
  fontPath: string;
}

/**
 * Paths of the ffmpeg, ffprobe and font that ship in npm packages. Resolved only when
 * called, so a deployment that configures its own binaries never loads these packages.
 */
export function defaultMediaBinaries(): MediaBinaries {
  const require = createRequire(import.meta.url);
  const ffmpeg = require('@ffmpeg-installer/ffmpeg') as { path: string };
  const ffprobe = require('@ffprobe-installer/ffprobe') as { path: string };
  return {
    ffmpegPath: ffmpeg.path,
    ffprobePath: ffprobe.path,
    fontPath: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  };
}
