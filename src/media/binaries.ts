import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** Fonts captions may draw with: every font in `dirs`, tried in the order of `families` first. */
export interface CaptionFonts {
  dirs: readonly string[];
  /**
   * Fallback order for a character the first family lacks; families not listed come after,
   * in fontconfig's order.
   */
  families: readonly string[];
}

export interface MediaBinaries {
  ffmpegPath: string;
  ffprobePath: string;
  fonts: CaptionFonts;
}

/**
 * Debian's packages (`fonts-dejavu-core`, `fonts-wqy-microhei`), installed by .ci/run and the
 * Dockerfile. DejaVu Sans covers Latin, Cyrillic, Greek, Arabic and Hebrew with OpenType
 * shaping tables; WenQuanYi Micro Hei covers Han, kana and Hangul at DejaVu's visual size (Noto's
 * CJK and Arabic faces have tall vertical metrics that libass turns into visibly smaller text).
 */
const SYSTEM_FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/truetype/wqy'];
export const DEFAULT_FONT_FAMILIES = ['DejaVu Sans', 'WenQuanYi Micro Hei'];

export const SYSTEM_FFMPEG = '/usr/bin/ffmpeg';
const SYSTEM_FFPROBE = '/usr/bin/ffprobe';
/** Filters the pipeline needs: crossfades for spots, libass for captions in every script. */
const REQUIRED_FILTERS = ['xfade', 'ass'];

let systemUsable: boolean | undefined;

/** Whether an ffmpeg binary lists every filter we need. Run once per process and path. */
export function hasFilters(ffmpegPath: string, filters: readonly string[]): boolean {
  const out = spawnSync(ffmpegPath, ['-hide_banner', '-filters'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (out.status !== 0 || typeof out.stdout !== 'string') return false;
  // Lines look like " TSC xfade             VV->V      Cross fade one video with another."
  const names = new Set(out.stdout.split('\n').map((line) => line.trim().split(/\s+/)[1]));
  return filters.every((f) => names.has(f));
}

function systemFfmpegUsable(): boolean {
  systemUsable ??=
    existsSync(SYSTEM_FFMPEG) &&
    existsSync(SYSTEM_FFPROBE) &&
    hasFilters(SYSTEM_FFMPEG, REQUIRED_FILTERS);
  return systemUsable;
}

/**
 * Debian's ffmpeg when it is installed and has what we need (CI and the Docker image install
 * it), else the 2018 static build inside `@ffmpeg-installer` (no `xfade`). The npm packages
 * load only in that case. Fonts: the system packages above, else the DejaVu in npm (no CJK).
 */
export function defaultMediaBinaries(): MediaBinaries {
  const require = createRequire(import.meta.url);
  const systemDirs = SYSTEM_FONT_DIRS.filter((dir) => existsSync(dir));
  const fonts: CaptionFonts = {
    dirs:
      systemDirs.length > 0
        ? systemDirs
        : [dirname(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'))],
    families: DEFAULT_FONT_FAMILIES,
  };
  if (systemFfmpegUsable()) {
    return { ffmpegPath: SYSTEM_FFMPEG, ffprobePath: SYSTEM_FFPROBE, fonts };
  }
  const ffmpeg = require('@ffmpeg-installer/ffmpeg') as { path: string };
  const ffprobe = require('@ffprobe-installer/ffprobe') as { path: string };
  return { ffmpegPath: ffmpeg.path, ffprobePath: ffprobe.path, fonts };
}
