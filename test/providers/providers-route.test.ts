import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { buildCatalog } from '../../src/providers/catalog.ts';
import { createProviderDirectory, providerLimitsFrom } from '../../src/providers/service.ts';
import { type FakeRunwayServer, startFakeRunway } from '../fake-runway/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let runway: FakeRunwayServer;
let t: TestApp;
let auth: string;
beforeAll(async () => {
  runway = await startFakeRunway({ creditBalance: 5_000, maxConcurrent: 3, dailyLimit: 40 });
  t = await createTestApp({
    RUNWAYML_API_SECRET: runway.apiKey,
    RUNWAYML_BASE_URL: runway.url,
    RUNWAY_RPM: '30',
    FAL_KEY: 'fal-test',
    FAL_DAILY_LIMIT: '500',
    MODEL_LIMITS_JSON: JSON.stringify({
      runway: { 'gen4.5': { max_concurrent: 2, daily_limit: 100 } },
    }),
  });
  auth = await t.key('providers-co', ['campaigns:read']);
});
afterAll(async () => {
  await t.close();
  await runway.close();
});

const list = (app: TestApp, as: string) =>
  app.app.inject({ method: 'GET', url: '/v1/providers', headers: { authorization: as } });

const organizationCalls = () =>
  runway.requests.filter((r) => r.url.startsWith('/v1/organization')).length;

describe('GET /v1/providers', () => {
  it('lists the configured providers, their models, limits and prices, and Runway account figures', async () => {
    const res = await list(t, auth);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.data.map((p: { name: string }) => p.name)).toEqual(['local', 'runway', 'fal']);
    expect(body.not_configured).toEqual(['openai']);
    const byName = Object.fromEntries(body.data.map((p: { name: string }) => [p.name, p]));
    expect(byName.runway).toMatchObject({
      default_model: 'gen4.5',
      limits: { rpm: 30, max_concurrent: 1, daily_limit: null },
      account: {
        credit_balance: 5_000,
        balance_usd: 50,
        models: { 'gen4.5': { max_concurrent: 3, max_daily: 40, daily_used: 0 } },
      },
      account_error: null,
    });
    const turbo = byName.runway.models.find((m: { id: string }) => m.id === 'gen4_turbo');
    expect(turbo).toMatchObject({
      text_to_video: false,
      image_to_video: true,
      prompt_max_chars: 1000,
      sizes: { text_to_video: [] },
      price_per_second_usd: { '1280x720': 0.05 },
      limits: null,
    });
    // A model's own caps beside its provider's.
    const gen45 = byName.runway.models.find((m: { id: string }) => m.id === 'gen4.5');
    expect(gen45.limits).toEqual({ rpm: null, max_concurrent: 2, daily_limit: 100 });
    expect(byName.fal.limits).toEqual({ rpm: 60, max_concurrent: 2, daily_limit: 500 });
    expect(byName.fal.account).toBeNull();
    expect(byName.fal.account_error).toBeNull();
    const pika = byName.fal.models.find(
      (m: { id: string }) => m.id === 'fal-ai/pika/v2.2/image-to-video',
    );
    expect(pika).toMatchObject({ text_to_video: false, image_to_video: true, seconds: [5, 10] });
    expect(byName.local).toMatchObject({ limits: null, account: null });
  });

  it('asks Runway at most once while its figures are fresh', async () => {
    const before = organizationCalls();
    await Promise.all([list(t, auth), list(t, auth), list(t, auth)]);
    expect(organizationCalls() - before).toBe(0);
  });

  it('needs a key with campaigns:read; every tenant sees the same deployment-wide list', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/providers' })).statusCode).toBe(401);
    const writer = await t.key('providers-metrics-co', ['metrics:write']);
    const forbidden = await list(t, writer);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    const other = await t.key('providers-other-co', ['campaigns:read']);
    expect((await list(t, other)).json().not_configured).toEqual(['openai']);
  });
});

describe('GET /v1/providers with Runway unreachable', () => {
  it('answers 200 with account null and a note, never a 5xx', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const down = await createTestApp({
      RUNWAYML_API_SECRET: 'key_test',
      RUNWAYML_BASE_URL: `http://127.0.0.1:${port}`,
    });
    try {
      const res = await list(down, await down.key('providers-down-co'));
      expect(res.statusCode).toBe(200);
      const runwayEntry = res.json().data.find((p: { name: string }) => p.name === 'runway');
      expect(runwayEntry.account).toBeNull();
      expect(runwayEntry.account_error).toMatch(/^runway account unavailable: /);
      expect(runwayEntry.models.length).toBeGreaterThan(0);
    } finally {
      await down.close();
    }
  });
});

describe('the provider directory', () => {
  const env = loadConfig({
    DATABASE_URL: 'postgres://h/db',
    REDIS_URL: 'redis://h',
    RUNWAYML_API_SECRET: 'k',
  });
  const catalog = buildCatalog(env);
  const limits = providerLimitsFrom(env);

  it('gives up on an account that does not answer in time, and asks again after a while', async () => {
    let clock = 0;
    let calls = 0;
    const directory = createProviderDirectory({
      catalog,
      limits,
      accountTimeoutMs: 50,
      cacheMs: 1_000,
      now: () => clock,
      accounts: {
        // Never answers, and ignores the signal: the deadline alone must end the wait.
        runway: () => {
          calls++;
          return new Promise(() => {});
        },
      },
    });
    const first = await directory.list();
    const entry = first.data.find((p) => p.name === 'runway')!;
    expect(entry.account).toBeNull();
    expect(entry.account_error).toBe('runway account unavailable: timed out after 50 ms');
    await directory.list();
    expect(calls).toBe(1);
    // A failure is kept half as long as an answer.
    clock += 600;
    await directory.list();
    expect(calls).toBe(2);
  });
});
