import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import type { Brief, ShotStatus } from '../db/schema.ts';
import { colourFor } from '../media/index.ts';
import type { Rendering, RenderSubject } from '../render/subject.ts';
import type { StatusWrite } from '../variants/lifecycle.ts';
import { failShot, holdShot, requeueShotForRecreate, transitionShot } from './shot-lifecycle.ts';

type RenderShot = Rendering & {
  campaign_id: string;
  shot_key: string;
  identity: string;
  raw_key: string | null;
  previous_identity: string | null;
  first_frame_key: string | null;
  brief: Brief;
};

export async function loadRenderShot(db: DbOrTx, id: string): Promise<RenderShot | null> {
  const { rows } = await db.execute<RenderShot>(sql`
    SELECT s.id, s.tenant_id, s.campaign_id, s.shot_key, s.identity, s.status, s.prompt, s.provider_prompt,
           s.provider, s.model, s.seconds, s.size, s.provider_job_id, s.submit_started_at, s.submitted_at,
           s.recreates, s.reference_asset_id, s.raw_key, s.previous_identity, s.first_frame_key, c.brief
    FROM shots s JOIN campaigns c ON c.id = s.campaign_id
    WHERE s.id = ${id}`);
  const row = rows[0];
  if (!row) return null;
  // Raw queries through drizzle's pg driver return timestamps as strings.
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return {
    ...row,
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
    captions: [s.shot_key],
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
