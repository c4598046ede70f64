import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Scratch under WORK_DIR that a crash strands: a SIGKILLed or OOM-killed worker never reaches
 * the `finally { rm }` of the step that made it. Each root holds one directory per job step
 * (composite/<uuid>, first-frame/<uuid>); a new kind of scratch directory belongs in this list.
 */
const scratchRoots = ['composite', 'first-frame'];

/**
 * The local provider's renders (`local/<variant>.mp4|.jpg`) are its job records until the
 * variant's download stores them; `local/.<variant>.<uuid>.*` are its renders in progress.
 */
const localRoot = 'local';

const HOUR = 3_600_000;

export interface SweepOptions {
  now?: number;
  /**
   * Untouched this long, scratch belongs to no live step: every ffmpeg step has a timeout far
   * shorter, and a running step keeps writing into its directory.
   */
  scratchAgeMs?: number;
  /**
   * A local render not downloaded after this long is treated like a provider's expired output:
   * removed, and re-rendered for free if a variant still asks for it (status says not_found).
   */
  localRenderAgeMs?: number;
}

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
 * Removes what crashed steps left in WORK_DIR; returns the paths removed. Safe while other
 * workers share the directory: only entries idle past the bounds are touched, and an entry that
 * vanishes meanwhile (its step finished) is skipped.
 */
export async function sweepWorkDir(workDir: string, opts: SweepOptions = {}): Promise<string[]> {
  const now = opts.now ?? Date.now();
  const scratchAge = opts.scratchAgeMs ?? HOUR;
  const renderAge = opts.localRenderAgeMs ?? 24 * HOUR;
  const candidates: { path: string; maxAge: number }[] = [];
  for (const root of scratchRoots) {
    for (const name of await entries(join(workDir, root)))
      candidates.push({ path: join(workDir, root, name), maxAge: scratchAge });
  }
  for (const name of await entries(join(workDir, localRoot))) {
    candidates.push({
      path: join(workDir, localRoot, name),
      maxAge: name.startsWith('.') ? scratchAge : renderAge,
    });
  }
  const removed: string[] = [];
  for (const { path, maxAge } of candidates) {
    const touched = await lastTouched(path).catch(() => null);
    if (touched === null || now - touched < maxAge) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}
