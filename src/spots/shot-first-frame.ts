import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import { fileArg, inputArgs } from '../media/ffmpeg.ts';
import type { RenderDeps } from '../render/jobs.ts';

/** What a shot started from its predecessor's last frame reads of its chain. */
type ChainedShot = {
  id: string;
  campaign_id: string;
  size: string;
  previous_identity: string | null;
  first_frame_key: string | null;
};

type Predecessor = { id: string; shot_key: string; status: string; raw_key: string | null };

/** Where a chained shot stands: its first frame stored, waiting, or never to be had. */
type ChainState =
  | { kind: 'ready'; firstFrameKey: string | null }
  | { kind: 'wait' }
  | { kind: 'stopped'; code: string; message: string };

const stoppedStatuses = ['failed', 'blocked', 'cancelled', 'held'];

/**
 * `first_frame: "previous_last_frame"`: the shot waits, still queued and so unpaid, until the
 * shot before it is ready, then starts from that render's last frame, extracted as PNG at this
 * shot's size and stored content-addressed (the same render gives the same bytes, so a re-run
 * after a crash stores nothing new). The create then carries it like an asset first frame.
 */
export function createShotChain(deps: Pick<RenderDeps, 'db' | 'storage' | 'media' | 'config'>) {
  async function predecessorOf(s: ChainedShot): Promise<Predecessor | null> {
    const { rows } = await deps.db.execute<Predecessor>(sql`
      SELECT id, shot_key, status, raw_key FROM shots
      WHERE campaign_id = ${s.campaign_id} AND identity = ${s.previous_identity}`);
    return rows[0] ?? null;
  }

  /** The last frame, scaled and cropped to `size` (the OpenAI shape wants exactly it), as PNG. */
  async function extractLastFrame(rawKey: string, size: string, dir: string): Promise<string> {
    const [w, h] = size.split('x').map(Number) as [number, number];
    let input = deps.storage.path?.(rawKey);
    if (!input) {
      input = join(dir, 'previous.mp4');
      await pipeline(await deps.storage.open(rawKey), createWriteStream(input));
    }
    const out = join(dir, 'last-frame.png');
    // From a second before the end, every decoded frame overwrites the file: the last one stays.
    await deps.media.runner.ffmpeg(
      [
        ...['-sseof', '-1'],
        ...inputArgs(input),
        ...['-vf', `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},setsar=1`],
        ...['-an', '-pix_fmt', 'rgb24', '-fflags', '+bitexact', '-flags', '+bitexact'],
        ...['-f', 'image2', '-update', '1', '-y', fileArg(out)],
      ],
      { timeoutMs: 60_000 },
    );
    return out;
  }

  async function prepare(s: ChainedShot): Promise<ChainState> {
    if (!s.previous_identity || s.first_frame_key)
      return { kind: 'ready', firstFrameKey: s.first_frame_key };
    const previous = await predecessorOf(s);
    if (!previous)
      return { kind: 'stopped', code: 'previous_shot_missing', message: 'no shot before this one' };
    if (stoppedStatuses.includes(previous.status))
      return {
        kind: 'stopped',
        code: `previous_shot_${previous.status}`,
        message: `shot ${previous.shot_key} (${previous.id}), whose last frame this one starts from, is ${previous.status}`,
      };
    if (previous.status !== 'ready' || !previous.raw_key) return { kind: 'wait' };
    const dir = join(deps.config.workDir, 'last-frame', randomUUID());
    await mkdir(dir, { recursive: true });
    try {
      const png = await extractLastFrame(previous.raw_key, s.size, dir);
      const stored = await deps.storage.putFile(png, { contentType: 'image/png' });
      // Only while nothing was sent: a shot already claimed keeps the frame it was sent with.
      await deps.db.execute(sql`
        UPDATE shots SET first_frame_key = ${stored.key}, updated_at = now()
        WHERE id = ${s.id} AND status = 'queued' AND first_frame_key IS NULL`);
      return { kind: 'ready', firstFrameKey: stored.key };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return { prepare };
}
