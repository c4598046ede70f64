import { renderQueueOf } from '../../src/render/enqueue.ts';
import { settledStatuses } from '../../src/variants/lifecycle.ts';
import type { TestApp } from './app.ts';
import { waitFor } from './app.ts';

/** A campaign and matrix through the API, as a client would make them. */
export async function setupCampaign(
  t: TestApp,
  auth: string,
  opts: {
    levels: Record<string, string[]>;
    /** Labels by dimension key ("tone") or dimension and level ("tone.calm"); default the key. */
    labels?: Record<string, string>;
    video?: {
      provider: string;
      model?: string;
      seconds: number;
      size: string;
      reference_asset_id?: string;
    };
    template?: string;
    budget_usd?: number;
    /** A multi-shot spot (issue 12), sent as given. */
    spot?: unknown;
    overlay?: unknown;
  },
) {
  const dims = Object.keys(opts.levels);
  const headers = { authorization: auth };
  const create = (video: unknown) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers,
      payload: {
        name: 'Scenario',
        brief: { product: 'Fizz', key_message: 'Cold' },
        prompt_template:
          opts.template ?? `Ad for {{brief.product}}: ${dims.map((d) => `{{${d}}}`).join(' / ')}`,
        video,
        ...(opts.budget_usd ? { budget_usd: opts.budget_usd } : {}),
        ...(opts.spot ? { spot: opts.spot } : {}),
        ...(opts.overlay ? { overlay: opts.overlay } : {}),
      },
    });
  const video = opts.video ?? { provider: 'openai', seconds: 4, size: '720x1280' };
  const campaign = await create(video);
  if (campaign.statusCode !== 201) throw new Error(`campaign: ${campaign.body}`);
  const matrix = await t.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${campaign.json().id}/matrices`,
    headers,
    payload: {
      dimensions: dims.map((key) => ({
        key,
        ...(opts.labels?.[key] ? { label: opts.labels[key] } : {}),
        levels: opts.levels[key]!.map((l) => {
          const label = opts.labels?.[`${key}.${l}`];
          return label ? { key: l, label } : { key: l };
        }),
      })),
    },
  });
  if (matrix.statusCode !== 201) throw new Error(`matrix: ${matrix.body}`);
  return { campaignId: campaign.json().id as string, matrixId: matrix.json().id as string };
}

export async function startRun(
  t: TestApp,
  auth: string,
  p: { campaignId: string; matrixId: string; key: string; design?: unknown },
) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${p.campaignId}/runs`,
    headers: { authorization: auth, 'idempotency-key': p.key },
    payload: { matrix_id: p.matrixId, design: p.design ?? { type: 'full' } },
  });
  if (res.statusCode !== 202) throw new Error(`run: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; variant_count: number; estimated_cost_usd: number };
}

export async function waitForRun(
  t: TestApp,
  auth: string,
  runId: string,
  status = 'completed',
  timeoutMs = 60_000,
) {
  let seen: { status?: string; counts?: unknown } = {};
  return waitFor(
    async () => {
      const run = (
        await t.app.inject({
          method: 'GET',
          url: `/v1/runs/${runId}`,
          headers: { authorization: auth },
        })
      ).json();
      seen = run;
      return run.status === status ? run : undefined;
    },
    {
      timeoutMs,
      // A stall should say how far the run got, not only that it did not finish.
      what: () =>
        `run ${runId} to be ${status}; last seen ${seen.status} ${JSON.stringify(seen.counts)}`,
    },
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await stuckVariants(t, runId)}`);
  });
}

/** Where each unsettled variant of a run stands, or why that could not be read. */
export function stuckVariants(t: TestApp, runId: string, limit = 6): Promise<string> {
  // Evidence for a timeout's message: reading it must not replace the timeout with its own error.
  return unsettledVariants(t, runId, limit).catch((err: unknown) => `(unreadable: ${err})`);
}

/**
 * Where each unsettled variant of a run stands, in Postgres and in its BullMQ job, with a spot's
 * shots: a stall's evidence (a job failing and backing off, a job lost, a shot stuck), for a
 * timeout to print.
 */
async function unsettledVariants(t: TestApp, runId: string, limit: number): Promise<string> {
  const unsettled = (await variantsOf(t, runId)).filter(
    (v) => !(settledStatuses as readonly string[]).includes(v.status),
  );
  const lines = await Promise.all(
    unsettled.slice(0, limit).map(async (v) => {
      const { updated_at } = v as unknown as { updated_at: Date };
      const job = await t.infra.queues.get(renderQueueOf(v.provider)).getJob(v.id);
      const { rows: shots } = await t.testDb.pool.query(
        `SELECT s.id, s.status, s.attempts FROM variant_shots vs JOIN shots s ON s.id = vs.shot_id
         WHERE vs.variant_id = $1 ORDER BY vs.position`,
        [v.id],
      );
      const jobState = job
        ? `${await job.getState()} attemptsMade=${job.attemptsMade} stalled=${job.stalledCounter}` +
          `${job.failedReason ? ` failedReason=${job.failedReason.slice(0, 300)}` : ''}`
        : 'none';
      return (
        `  ${v.id} ${v.status} attempts=${v.attempts} idle=${Math.round((Date.now() - updated_at.getTime()) / 1000)}s` +
        ` job: ${jobState}` +
        (shots.length
          ? ` shots: ${shots.map((s) => `${s.id} ${s.status} attempts=${s.attempts}`).join(', ')}`
          : '')
      );
    }),
  );
  return `${unsettled.length} unsettled variants${unsettled.length > limit ? ` (first ${limit})` : ''}:\n${lines.join('\n')}`;
}

export async function variantsOf(t: TestApp, runId: string) {
  const { rows } = await t.testDb.pool.query(
    `SELECT v.* FROM variants v JOIN run_variants rv ON rv.variant_id = v.id WHERE rv.run_id = $1 ORDER BY v.id`,
    [runId],
  );
  return rows as {
    id: string;
    prompt: string;
    status: string;
    error_code: string | null;
    error_message: string | null;
    attempts: number;
    provider: string;
    provider_job_id: string | null;
    provider_status: string | null;
    provider_code: string | null;
    actual_cost_usd: string;
    reserved_usd: string | null;
    recreates: number;
    width: number | null;
    height: number | null;
    duration_s: string | null;
  }[];
}

/** Uploads an image as one of the tenant's assets; returns its id. */
export async function uploadImage(t: TestApp, auth: string, bytes: Buffer, name: string) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/assets',
    headers: { authorization: auth },
    payload: form,
  });
  if (res.statusCode !== 201) throw new Error(`asset: ${res.statusCode} ${res.body}`);
  return res.json().id as string;
}
