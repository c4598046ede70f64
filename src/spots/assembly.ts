import { join } from 'node:path';
import type { Job } from 'bullmq';
import { sql } from 'drizzle-orm';
import type { SpotEndCard, SpotSettings } from '../db/schema.ts';
import { type EndCardSpec, spotSeconds } from '../media/index.ts';
import { enqueueRenders } from '../render/enqueue.ts';
import { delay } from '../render/job-delay.ts';
import type { RenderDeps } from '../render/jobs.ts';
import { overlayText } from '../render/overlay.ts';
import type { RenderVariant } from '../render/repository.ts';
import { failVariant, markRunsStarted, transition } from '../variants/lifecycle.ts';
import { activeShotStatuses } from './shot-lifecycle.ts';

type LocalPath = (key: string, dir: string, name: string) => Promise<string>;

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

  /**
   * Writes the joined shots, end card and audio bed to `dir`. The overlay composites onto the
   * shots only (`overlayUntil`): the card carries its own logo and the overlay's text.
   */
  async function assemble(
    v: RenderVariant,
    dir: string,
    localPath: LocalPath,
  ): Promise<{ path: string; overlayUntil: number | undefined }> {
    const shots = await shotsOf(deps, v.id);
    const { rows } = await db.execute<{ spot: SpotSettings | null }>(
      sql`SELECT spot FROM campaigns WHERE id = ${v.campaign_id}`,
    );
    const spot = rows[0]?.spot;
    const transitionSpec = spot?.transition ?? { type: 'cut', seconds: 0 };
    const clips = await Promise.all(
      shots.map(async (s, i) => {
        if (!s.raw_key) throw new Error(`shot ${s.id} is ready without a stored render`);
        return { path: await localPath(s.raw_key, dir, `shot-${i}.mp4`), seconds: s.seconds };
      }),
    );
    const [width, height] = v.size.split('x').map(Number) as [number, number];
    const out = join(dir, 'assembled.mp4');
    const endCard = spot?.end_card ? await endCardOf(v, spot.end_card, dir, localPath) : null;
    const audio = spot?.audio ? await audioBedOf(v, spot.audio, dir, localPath) : null;
    const spec = { clips, transition: transitionSpec, endCard, audio };
    await deps.media.assemble({ ...spec, out, width, height });
    return {
      path: out,
      overlayUntil: endCard ? spotSeconds(spec) - endCard.seconds : undefined,
    };
  }

  /** The card's text from the variant's levels; its logo the one the overlay would draw. */
  async function endCardOf(
    v: RenderVariant,
    card: SpotEndCard,
    dir: string,
    localPath: LocalPath,
  ): Promise<EndCardSpec> {
    const text = (template: string | undefined) =>
      overlayText({ template, dimensions: v.dimensions, levels: v.levels, brief: v.brief });
    return {
      seconds: card.seconds,
      background: card.background,
      lines: text(card.text_template),
      legal: text(v.overlay.text_template),
      logo: card.logo && v.logo_key ? await localPath(v.logo_key, dir, 'end-card-logo') : null,
    };
  }

  async function audioBedOf(
    v: RenderVariant,
    audio: NonNullable<SpotSettings['audio']>,
    dir: string,
    localPath: LocalPath,
  ) {
    const { rows } = await db.execute<{ storage_key: string }>(sql`
      SELECT storage_key FROM assets
      WHERE tenant_id = ${v.tenant_id} AND id = ${audio.asset_id} AND kind = 'audio'`);
    const key = rows[0]?.storage_key;
    if (!key) throw new Error(`audio asset ${audio.asset_id} no longer exists`);
    return { path: await localPath(key, dir, 'audio-bed'), gainDb: audio.gain_db };
  }

  return { waitForShots, assemble };
}
