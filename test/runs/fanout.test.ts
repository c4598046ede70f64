import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { variantKey } from '../../src/prompts/index.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign } from '../helpers/scenario.ts';

// The fan-out's writes, read back from Postgres. No workers: jobs wait in this file's queues.
let t: TestApp;
let auth: string;

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('fanout');
});
afterAll(() => t.close());

const post = (campaignId: string, key: string, payload: object) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${campaignId}/runs`,
    headers: { authorization: auth, 'idempotency-key': key },
    payload,
  });

async function counts(campaignId: string) {
  const { rows } = await t.testDb.pool.query(
    `SELECT (SELECT count(*)::int FROM variants WHERE campaign_id = $1) AS variants,
            (SELECT count(*)::int FROM runs WHERE campaign_id = $1) AS runs,
            (SELECT count(*)::int FROM run_variants rv JOIN runs r ON r.id = rv.run_id
              WHERE r.campaign_id = $1) AS links`,
    [campaignId],
  );
  return rows[0] as { variants: number; runs: number; links: number };
}

/** dims × levels named d0..dN, l0..lM; the full design has the product of the sizes. */
const levels = (sizes: number[]) =>
  Object.fromEntries(
    sizes.map((n, d) => [`d${d}`, Array.from({ length: n }, (_, i) => `l${i}`)] as const),
  );

describe('fan-out', () => {
  it("stores prompts and levels with COPY's special characters exactly", async () => {
    const campaign = await t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: auth },
      payload: {
        name: 'Escapes',
        brief: { product: 'Fizz', key_message: 'Cold' },
        prompt_template: 'Tab\there,\nnewline, back\\slash \\N \\\\t: {{tone}} / {{city}}',
        video: { provider: 'local', seconds: 4, size: '720x1280' },
      },
    });
    expect(campaign.statusCode).toBe(201);
    const campaignId = campaign.json().id;
    const tone = [
      { key: 'tab', prompt: 'a\tb' },
      { key: 'nl', prompt: 'line1\r\nline2' },
      { key: 'bs', prompt: 'C:\\path\\N\\' },
      { key: 'quote "q"', prompt: '"quoted" \'single\' {braces}' },
    ];
    const city = [{ key: 'Zürich 🏔', prompt: 'Zürich 🏔 — naïve' }];
    const matrix = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaignId}/matrices`,
      headers: { authorization: auth },
      payload: {
        dimensions: [
          { key: 'tone', levels: tone },
          { key: 'city', levels: city },
        ],
      },
    });
    expect(matrix.statusCode).toBe(201);
    const run = await post(campaignId, 'escapes', {
      matrix_id: matrix.json().id,
      design: { type: 'full' },
    });
    expect(run.statusCode).toBe(202);

    const { rows } = await t.testDb.pool.query(
      'SELECT variant_key, levels, prompt FROM variants WHERE campaign_id = $1',
      [campaignId],
    );
    const expected = tone.map((level) => {
      const prompt = `Tab\there,\nnewline, back\\slash \\N \\\\t: ${level.prompt} / ${city[0]!.prompt}`;
      const chosen = { tone: level.key, city: city[0]!.key };
      return {
        prompt,
        levels: chosen,
        variant_key: variantKey({
          campaignId,
          levels: chosen,
          prompt,
          video: { provider: 'local', model: 'motion-v1', seconds: 4, size: '720x1280' },
        }),
      };
    });
    const byPrompt = (a: { prompt: string }, b: { prompt: string }) =>
      a.prompt < b.prompt ? -1 : 1;
    expect(rows.sort(byPrompt)).toEqual(expected.sort(byPrompt));
  });

  it('reuses existing variants across chunks and renders failed ones again', async () => {
    // 6,000 variants: more than one chunk of the writer.
    const s = await setupCampaign(t, auth, { levels: levels([20, 20, 15]) });
    const first = await post(s.campaignId, 'first', {
      matrix_id: s.matrixId,
      design: {
        type: 'explicit',
        combinations: [
          { d0: 'l0', d1: 'l0', d2: 'l0' },
          { d0: 'l19', d1: 'l19', d2: 'l14' },
          { d0: 'l10', d1: 'l5', d2: 'l7' },
        ],
      },
    });
    expect(first.json()).toMatchObject({ variant_count: 3, new_variant_count: 3 });
    const { rows: failed } = await t.testDb.pool.query(
      `UPDATE variants SET status = 'failed', error_code = 'boom' WHERE campaign_id = $1
         AND levels = '{"d0":"l19","d1":"l19","d2":"l14"}'::jsonb RETURNING id`,
      [s.campaignId],
    );
    expect(failed).toHaveLength(1);
    const unit = first.json().estimated_cost_usd / 3;

    const second = await post(s.campaignId, 'second', {
      matrix_id: s.matrixId,
      design: { type: 'full' },
    });
    expect(second.statusCode).toBe(202);
    expect(second.json()).toMatchObject({ variant_count: 6000, new_variant_count: 5997 });
    // 5,997 new ones and the failed one again; the two still queued were already paid for.
    expect(second.json().estimated_cost_usd).toBeCloseTo(unit * 5998, 4);
    expect(await counts(s.campaignId)).toEqual({ variants: 6000, runs: 2, links: 6003 });
    const { rows } = await t.testDb.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT v.variant_key)::int AS keys,
              count(*) FILTER (WHERE v.status = 'queued')::int AS queued
         FROM run_variants rv JOIN variants v ON v.id = rv.variant_id WHERE rv.run_id = $1`,
      [second.json().id],
    );
    expect(rows[0]).toEqual({ n: 6000, keys: 6000, queued: 6000 });

    // Cancelling the big run leaves the three variants the first (still open) run asked for.
    const cancelled = await t.app.inject({
      method: 'POST',
      url: `/v1/runs/${second.json().id}/cancel`,
      headers: { authorization: auth },
      payload: {},
    });
    expect(cancelled.json()).toMatchObject({
      status: 'cancelled',
      counts: { cancelled: 5997, queued: 3 },
    });
    const firstRun = await t.app.inject({
      method: 'GET',
      url: `/v1/runs/${first.json().id}`,
      headers: { authorization: auth },
    });
    expect(firstRun.json()).toMatchObject({ status: 'queued', counts: { queued: 3 } });
  });

  it('writes nothing for a run over budget, before or after its keys are looked up', async () => {
    const s = await setupCampaign(t, auth, {
      levels: levels([10, 10]),
      budget_usd: 10,
    });
    // A first run: every variant is new, so it is refused before anything is written.
    const tooBig = await post(s.campaignId, 'too-big', {
      matrix_id: s.matrixId,
      design: { type: 'full' },
    });
    expect(tooBig.statusCode).toBe(422);
    expect(tooBig.json().errors[0].path).toBe('design');
    expect(await counts(s.campaignId)).toEqual({ variants: 0, runs: 0, links: 0 });

    const small = await post(s.campaignId, 'small', {
      matrix_id: s.matrixId,
      design: { type: 'explicit', combinations: [{ d0: 'l0', d1: 'l0' }] },
    });
    expect(small.statusCode).toBe(202);
    // Now the campaign has a variant: the cost is known only after the writes, which roll back.
    const again = await post(s.campaignId, 'again', {
      matrix_id: s.matrixId,
      design: { type: 'full' },
    });
    expect(again.statusCode).toBe(422);
    expect(again.json().errors[0].path).toBe('design');
    const capped = await post(s.campaignId, 'capped', {
      matrix_id: s.matrixId,
      design: { type: 'explicit', combinations: [{ d0: 'l1', d1: 'l1' }] },
      max_cost_usd: 0.01,
    });
    expect(capped.statusCode).toBe(422);
    expect(capped.json().errors[0].path).toBe('max_cost_usd');
    expect(await counts(s.campaignId)).toEqual({ variants: 1, runs: 1, links: 1 });
  });
});
