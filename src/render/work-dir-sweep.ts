import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkDirArea } from '../providers/plugin.ts';

const HOUR = 3_600_000;

/**
 * The render steps' scratch: one directory per step (composite/<uuid>, first-frame/<uuid>),
 * removed by the step's `finally`, which a SIGKILLed or OOM-killed worker never reaches.
 * Untouched for an hour, it belongs to no live step: every ffmpeg step has a far shorter
 * timeout, and a running step keeps writing into its directory. A new kind of step scratch
 * belongs in this list; a provider's own files are its plugin's `workDirAreas`.
 */
export const stepScratchAreas: readonly WorkDirArea[] = ['composite', 'first-frame'].map((dir) => ({
  dir,
  maxAgeMs: () => HOUR,
}));

/** Latest modification of a path and, for a directory, of its direct entries. */
async function lastTouched(path: string): Promise<number> {
  const own = await stat(path);
  if (!own.isDirectory()) return own.mtimeMs;
  let latest = own.mtimeMs;
  for (const name of await readdir(path)) {
    const entry = await stat(join(path, name)).catch(() => null);
    if (entry) latest = Math.max(latest, entry.mtimeMs);
  }
  return latest;
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}

/**
 * Removes the entries of each area under `workDir` idle past the area's age; returns the paths
 * removed. Safe while other workers share the directory: only idle entries are touched, and
 * one that vanishes meanwhile (its step finished) is skipped.
 */
export async function sweepWorkDir(
  workDir: string,
  areas: readonly WorkDirArea[],
  now = Date.now(),
): Promise<string[]> {
  const removed: string[] = [];
  for (const area of areas) {
    for (const name of await entries(join(workDir, area.dir))) {
      const path = join(workDir, area.dir, name);
      const touched = await lastTouched(path).catch(() => null);
      if (touched === null || now - touched < area.maxAgeMs(name)) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    }
  }
  return removed;
}
