import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun } from '../helpers/scenario.ts';

const base = { DATABASE_URL: 'postgres://h/db', REDIS_URL: 'redis://h' };

function problemsOf(prices: string, extra: Record<string, string> = {}) {
  try {
    loadConfig({ ...base, ...extra, PRICES_JSON: prices });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('PRICES_JSON at start-up', () => {
  it('is parsed into prices by provider, model and size', () => {
    const config = loadConfig({ ...base, PRICES_JSON: '{"openai":{"sora-2":{"720x1280":0.25}}}' });
    expect(config.PRICES_JSON).toEqual({ openai: { 'sora-2': { '720x1280': 0.25 } } });
  });

  it('stops start-up with a message naming the key', () => {
    expect(problemsOf('{"openai":')).toEqual([expect.stringMatching(/^PRICES_JSON: is not JSON/)]);
    expect(problemsOf('{"openai":{"sora-2":{"720x1280":-1}}}')).toEqual([
      expect.stringMatching(/^PRICES_JSON\.openai\.sora-2\.720x1280: /),
    ]);
    expect(problemsOf('{"openai":{"sora-2":{"720x1280":"0.1"}}}')).toEqual([
      expect.stringMatching(/^PRICES_JSON\.openai\.sora-2\.720x1280: /),
    ]);
    // Runway and fal are providers now: their models take prices, unknown ones are named.
    expect(problemsOf('{"runway":{"gen-3":{"720x1280":0.1}}}')).toEqual([
      'PRICES_JSON.runway.gen-3: runway has no model gen-3 (known: gen4.5, gen4_turbo, veo3.1, veo3.1_fast)',
    ]);
    expect(problemsOf('{"runway":{"gen4.5":{"1280x720":0.1}}}')).toEqual([]);
    expect(problemsOf('{"nova":{"m":{"720x1280":0.1}}}')).toEqual([
      'PRICES_JSON: Unrecognized key: "nova"',
    ]);
    expect(problemsOf('{"openai":{"sora-9":{"720x1280":0.1}}}')).toEqual([
      'PRICES_JSON.openai.sora-9: openai has no model sora-9 (known: sora-2, sora-2-pro)',
    ]);
    expect(problemsOf('{"openai":{"sora-2":{"1792x1024":0.1}}}')).toEqual([
      expect.stringMatching(/^PRICES_JSON\.openai\.sora-2\.1792x1024: openai\/sora-2 renders /),
    ]);
    // The gateway model named by OPENAI_VIDEO_MODEL is in the catalog, so it can be priced.
    expect(
      problemsOf('{"openai":{"veo-x":{"720x1280":0.2}}}', { OPENAI_VIDEO_MODEL: 'veo-x' }),
    ).toEqual([]);
  });
});

describe('PRICES_JSON in quotes', () => {
  let t: TestApp;
  let auth: string;
  beforeAll(async () => {
    t = await createTestApp({
      PRICES_JSON: '{"openai":{"sora-2":{"720x1280":0.25}}}',
      OPENAI_API_KEY: 'sk-test',
    });
    auth = await t.key('priced-co');
  });
  afterAll(() => t.close());

  it("changes the preview's and the run's estimated cost", async () => {
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['a', 'b', 'c'] },
      video: { provider: 'openai', seconds: 4, size: '720x1280' },
    });
    const preview = await t.app.inject({
      method: 'POST',
      url: `/v1/matrices/${s.matrixId}/preview`,
      headers: { authorization: auth },
      payload: { design: { type: 'full' } },
    });
    expect(preview.statusCode).toBe(200);
    // 0.25 $/s × 4 s, where the listed price (0.10 $/s) gives 0.40.
    expect(preview.json()).toMatchObject({ unit_cost_usd: 1, estimated_cost_usd: 3 });
    const run = await startRun(t, auth, { ...s, key: 'priced' });
    expect(run).toMatchObject({ estimated_cost_usd: 3 });
    const got = await t.app.inject({
      method: 'GET',
      url: `/v1/runs/${run.id}`,
      headers: { authorization: auth },
    });
    expect(got.json().cost.estimated_usd).toBe(3);
  });
});
