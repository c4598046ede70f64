import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import type { Brief, MatrixDocument, ShotStatus, SpotSettings } from '../db/schema.ts';
import { colourFor } from '../media/index.ts';
import type { Rendering, RenderSubject } from '../render/subject.ts';
import type { StatusWrite } from '../variants/lifecycle.ts';
import { namedDimensions, shotCaptions } from './shot-drawing.ts';
import { failShot, holdShot, requeueShotForRecreate, transitionShot } from './shot-lifecycle.ts';

type RenderShot = Rendering & {
  campaign_id: string;
  shot_key: string;
  identity: string;
  raw_key: string | null;
  previous_identity: string | null;
  first_frame_key: string | null;
  brief: Brief;
  /** The labels of the levels the shot's prompt names: the motion template's kicker. */
  captions: string[];
  /** The background image of the first level the shot's prompt names that carries one. */
  background_asset_id: string | null;
};

type ShotRow = Omit<RenderShot, 'captions' | 'background_asset_id'> & {
  spot: SpotSettings | null;
  levels: Record<string, string> | null;
  dimensions: MatrixDocument['dimensions'] | null;
};

/**
 * What the built-in renderer draws for a shot, from the levels its prompt names and no other:
 * the shot's identity holds those levels' labels and background and the brief's words
 * (`drawnText`, `drawnImages`), so every variant sharing the shot agrees on them and the
 * picture is the same whichever asked first.
 * The product image is the one fixed on the shot when it was made (`reference_asset_id`), not
 * the campaign's current one, which a later run's new identity picks up.
 */
function drawingInputs(row: ShotRow) {
  const dimensions = row.dimensions ?? [];
  const template = row.spot?.shots.find((x) => x.key === row.shot_key)?.prompt_template ?? '';
  const levels = namedDimensions(
    template,
    dimensions.map((d) => d.key),
  )
    .map((i) => dimensions[i]!)
    .map((d) => d.levels.find((l) => l.key === row.levels?.[d.key]))
    .filter((l) => l !== undefined);
  return {
    captions: shotCaptions(levels, row.brief),
    background_asset_id: levels.find((l) => l.background_asset_id)?.background_asset_id ?? null,
  };
}

export async function loadRenderShot(db: DbOrTx, id: string): Promise<RenderShot | null> {
  const { rows } = await db.execute<ShotRow>(sql`
    SELECT s.id, s.tenant_id, s.campaign_id, s.shot_key, s.identity, s.status, s.prompt, s.provider_prompt,
           s.provider, s.model, s.seconds, s.size, s.provider_job_id, s.submit_started_at, s.submitted_at,
           s.recreates, s.reference_asset_id, s.raw_key, s.previous_identity, s.first_frame_key, c.brief,
           c.spot, u.levels, u.dimensions
    FROM shots s JOIN campaigns c ON c.id = s.campaign_id
    LEFT JOIN LATERAL (
      SELECT v.levels, m.document -> 'dimensions' AS dimensions
      FROM variant_shots vs JOIN variants v ON v.id = vs.variant_id
      JOIN runs r ON r.id = v.run_id JOIN matrices m ON m.id = r.matrix_id
      WHERE vs.shot_id = s.id ORDER BY v.id LIMIT 1) u ON true
    WHERE s.id = ${id}`);
  const found = rows[0];
  if (!found) return null;
  const { spot: _s, levels: _l, dimensions: _d, ...row } = found;
  // Raw queries through drizzle's pg driver return timestamps as strings.
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return {
    ...row,
    ...drawingInputs(found),
    submit_started_at: date(row.submit_started_at),
    submitted_at: date(row.submitted_at),
  };
}

/**
 * A spot's shot as the render pipeline sees it: paid for once, shared by every variant that
 * needs it. Its prompts go out as written (the prompt writer works per variant, and a
 * rewrite per variant would split the shared shot).
 */
export const shotSubject: RenderSubject<RenderShot> = {
  table: 'shots',
  load: loadRenderShot,
  specExtras: (s) => ({
    captions: s.captions,
    background: colourFor(s.identity),
    keyMessage: s.brief.key_message,
    callToAction: s.brief.call_to_action,
  }),
  writerInput: () => null,
  openStatuses: ['queued'],
  fetchedStatus: 'ready',
  transition: async (tx, p) => (await transitionShot(tx, p as StatusWrite<ShotStatus>)) !== null,
  fail: async (tx, p) => (await failShot(tx, p)) !== null,
  hold: async (tx, p) => (await holdShot(tx, p)) !== null,
  requeueForRecreate: async (tx, p) => (await requeueShotForRecreate(tx, p)) !== null,
  // A shot's first claim starts the runs of the variants waiting for it.
  onClaimed: async (tx, id) => {
    await tx.execute(sql`
      UPDATE runs SET status = 'running', started_at = now()
      WHERE status = 'queued' AND id IN (
        SELECT rv.run_id FROM variant_shots vs JOIN run_variants rv ON rv.variant_id = vs.variant_id
        WHERE vs.shot_id = ${id})`);
  },
};
