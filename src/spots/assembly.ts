import { join } from 'node:path';
import type { Job } from 'bullmq';
import { sql } from 'drizzle-orm';
import type { SpotSettings } from '../db/schema.ts';
import { enqueueRenders } from '../render/enqueue.ts';
import type { RenderDeps } from '../render/jobs.ts';
import { delay } from '../render/provider-steps.ts';
import type { RenderVariant } from '../render/repository.ts';
import { failVariant, markRunsStarted, transition } from '../variants/lifecycle.ts';
import { activeShotStatuses } from './shot-lifecycle.ts';

type VariantShot = {
  id: string;
  shot_key: string;
  status: string;
  provider: string;
  seconds: number;
  raw_key: string | null;
  error_code: string | null;
  error_message: string | null;
};

async function shotsOf(deps: RenderDeps, variantId: string) {
  const { rows } = await deps.db.execute<VariantShot>(sql`
    SELECT s.id, s.shot_key, s.status, s.provider, s.seconds, s.raw_key, s.error_code, s.error_message
    FROM variant_shots vs JOIN shots s ON s.id = vs.shot_id
    WHERE vs.variant_id = ${variantId} ORDER BY vs.position`);
  return rows;
}

/** A variant of a spot: waits for its shared shots, then joins them before the overlay. */
export function createSpotAssembly(deps: RenderDeps) {
  const { db, config } = deps;

  /**
   * A shot that will not become ready ends the variant (failed, naming it): the shot, not the
   * variant, is what was paid for, so a later run renders only the shots that failed again.
   * A held shot fails its variants too; nothing here creates a render, so no charge repeats.
   */
  async function waitForShots(v: RenderVariant, job: Job, token: string | undefined) {
    const shots = await shotsOf(deps, v.id);
    const stopped = shots.find((s) =>
      ['failed', 'blocked', 'cancelled', 'held'].includes(s.status),
    );
    if (stopped) {
      const message = `shot ${stopped.shot_key} (${stopped.id}) is ${stopped.status}: ${stopped.error_code ?? ''} ${stopped.error_message ?? ''}`;
      await db.transaction((tx) =>
        failVariant(tx, { id: v.id, to: 'failed', code: `shot_${stopped.status}`, message }),
      );
      return;
    }
    if (shots.every((s) => s.status === 'ready')) {
      await db.transaction(async (tx) => {
        const moved = await transition(tx, {
          id: v.id,
          from: ['queued'],
          to: 'compositing',
          set: { progress: 100 },
        });
        if (moved) await markRunsStarted(tx, v.id);
      });
      return;
    }
    // Idempotent (jobId = shot id): a shot whose job Redis lost renders again from its row.
    const open = shots.filter((s) => (activeShotStatuses as readonly string[]).includes(s.status));
    await enqueueRenders(
      deps.queues,
      open.map((s) => ({ id: s.id, provider: s.provider, shot: true })),
    );
    const done = shots.filter((s) => s.status === 'ready').length;
    await db.execute(
      sql`UPDATE variants SET progress = ${Math.floor((100 * done) / shots.length)} WHERE id = ${v.id} AND status = 'queued'`,
    );
    return delay(job, token, config.pollIntervalMs);
  }

  /** Writes the joined shots to `dir` and returns the path; the overlay composites onto it. */
  async function assemble(
    v: RenderVariant,
    dir: string,
    localPath: (key: string, dir: string, name: string) => Promise<string>,
  ): Promise<string> {
    const shots = await shotsOf(deps, v.id);
    const { rows } = await db.execute<{ spot: SpotSettings }>(
      sql`SELECT spot FROM campaigns WHERE id = ${v.campaign_id}`,
    );
    const transitionSpec = rows[0]?.spot?.transition ?? { type: 'cut', seconds: 0 };
    const clips = await Promise.all(
      shots.map(async (s, i) => {
        if (!s.raw_key) throw new Error(`shot ${s.id} is ready without a stored render`);
        return { path: await localPath(s.raw_key, dir, `shot-${i}.mp4`), seconds: s.seconds };
      }),
    );
    const [width, height] = v.size.split('x').map(Number) as [number, number];
    const out = join(dir, 'assembled.mp4');
    await deps.media.assemble({ clips, out, width, height, transition: transitionSpec });
    return out;
  }

  return { waitForShots, assemble };
}
