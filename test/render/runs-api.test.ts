import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf } from '../helpers/scenario.ts';

let t: TestApp;
let mine: string;
let theirs: string;
let s: { campaignId: string; matrixId: string };
let runId: string;
let variantId: string;

// No workers here: these are the API's answers, whatever state the variants are in.
beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  mine = await t.key('runs-api-a');
  theirs = await t.key('runs-api-b');
  s = await setupCampaign(t, mine, { levels: { tone: ['a', 'b'], setting: ['x'] } });
  runId = (await startRun(t, mine, { ...s, key: 'runs-api' })).id;
  variantId = (await variantsOf(t, runId))[0]!.id;
});
afterAll(() => t.close());

const call = (
  as: string,
  method: 'GET' | 'POST',
  url: string,
  payload?: object,
  headers: Record<string, string> = {},
) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: as, ...headers },
    ...(payload ? { payload } : {}),
  });

describe('runs and variants API', () => {
  it("answers 404 on every route for another tenant's run, variant and campaign", async () => {
    const routes: [method: 'GET' | 'POST', url: string, payload?: object][] = [
      ['GET', `/v1/runs/${runId}`],
      ['POST', `/v1/runs/${runId}/cancel`, {}],
      ['POST', `/v1/runs/${runId}/retry`],
      ['GET', `/v1/variants/${variantId}`],
      ['GET', `/v1/variants/${variantId}/video`],
      ['GET', `/v1/variants/${variantId}/thumbnail`],
      ['GET', `/v1/campaigns/${s.campaignId}/runs`],
    ];
    for (const [method, url, payload] of routes) {
      const res = await call(theirs, method, url, payload);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 404 });
    }
    const started = await call(
      theirs,
      'POST',
      `/v1/campaigns/${s.campaignId}/runs`,
      { matrix_id: s.matrixId, design: { type: 'full' } },
      { 'idempotency-key': 'steal' },
    );
    expect(started.statusCode).toBe(404);
    // Their filters simply find nothing of ours.
    const listed = await call(theirs, 'GET', `/v1/variants?run_id=${runId}`);
    expect(listed.json().data).toEqual([]);
  });

  it('answers 400 or 422 naming what is wrong', async () => {
    const unknownParam = await call(mine, 'GET', '/v1/variants?colour=red');
    expect(unknownParam.statusCode).toBe(400);
    expect(unknownParam.json().errors[0].path).toBe('query.colour');
    const badStatus = await call(mine, 'GET', '/v1/variants?status=done');
    expect(badStatus.statusCode).toBe(400);
    const badDesign = await call(
      mine,
      'POST',
      `/v1/campaigns/${s.campaignId}/runs`,
      { matrix_id: s.matrixId, design: { type: 'lucky' } },
      { 'idempotency-key': 'bad-design' },
    );
    expect(badDesign.statusCode).toBe(400);
    expect(badDesign.json().errors[0].path).toMatch(/^design/);
    const other = await setupCampaign(t, mine, { levels: { tone: ['c'], setting: ['y'] } });
    const wrongMatrix = await call(
      mine,
      'POST',
      `/v1/campaigns/${s.campaignId}/runs`,
      { matrix_id: other.matrixId, design: { type: 'full' } },
      { 'idempotency-key': 'wrong-matrix' },
    );
    expect(wrongMatrix.statusCode).toBe(422);
    expect(wrongMatrix.json().errors).toEqual([
      { path: 'matrix_id', message: 'unknown matrix for this campaign' },
    ]);
    // Reused variants cost nothing, so the cap is checked on a campaign whose variants are all new.
    const overCap = await call(
      mine,
      'POST',
      `/v1/campaigns/${other.campaignId}/runs`,
      { matrix_id: other.matrixId, design: { type: 'full' }, max_cost_usd: 0.1 },
      { 'idempotency-key': 'over-cap' },
    );
    expect(overCap.statusCode).toBe(422);
    expect(overCap.json().errors[0].path).toBe('max_cost_usd');
    const notReady = await call(mine, 'GET', `/v1/variants/${variantId}/video`);
    expect(notReady.statusCode).toBe(404);
    expect(notReady.json().detail).toMatch(/no video yet/);
  });

  it('needs campaigns:write to start, cancel or retry', async () => {
    const reader = await t.key('runs-api-a', ['campaigns:read']);
    expect((await call(reader, 'POST', `/v1/runs/${runId}/cancel`, {})).statusCode).toBe(403);
    expect((await call(reader, 'GET', `/v1/runs/${runId}`)).statusCode).toBe(200);
  });
});
