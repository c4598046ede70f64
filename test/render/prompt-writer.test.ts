import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeVideoServer, startFakeVideoServer } from '../fake-provider/index.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import { type FakeChatServer, json, startFakeChat } from '../prompts/fake-chat.ts';

let t: TestApp;
let fake: FakeVideoServer;
let chat: FakeChatServer;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-writer-'));
  fake = await startFakeVideoServer({ defaults: { queuedMs: 5, renderMs: 20 } });
  chat = await startFakeChat();
  // The api validates campaigns against the providers it has keys for; the workers here talk
  // to the fake gateway.
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    ...openaiApiOnly,
  });
  workers = startTestWorkers(t, {
    OPENAI_API_KEY: 'test',
    OPENAI_BASE_URL: fake.baseURL,
    PROMPT_WRITER_MODEL: 'writer-test',
    PROMPT_WRITER_BASE_URL: chat.baseURL,
    OPENAI_RPM: '100000',
    RENDER_POLL_INTERVAL_MS: '30',
  });
});
afterAll(async () => {
  await workers.close();
  await t.close();
  await fake.close();
  await chat.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the prompt writer, when enabled', () => {
  it('rewrites each prompt once, keeps every level, and sends the rewrite to the provider', async () => {
    const shot =
      'Handheld golden-hour shot: a Playful Beach scene, a Serious Beach scene, Fizz in frame.';
    chat.reply(json({ prompt: shot }));
    const auth = await t.key('writer-co');
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['Playful', 'Serious'], setting: ['Beach'] },
    });
    const run = await startRun(t, auth, { ...s, key: 'writer' });
    const done = await waitForRun(t, auth, run.id);
    expect(done.counts.ready).toBe(2);
    expect(chat.requests).toHaveLength(2);
    // The provider got the rewrite; the variant keeps both, and its identity stays the template's.
    expect(fake.createCalls.map((c) => c.prompt)).toEqual([shot, shot]);
    const variants = await variantsOf(t, run.id);
    for (const v of variants) expect(v.prompt).toMatch(/^Ad for Fizz: (Playful|Serious) \/ Beach/);
    const api = await t.app.inject({
      method: 'GET',
      url: `/v1/variants/${variants[0]!.id}`,
      headers: { authorization: auth },
    });
    expect(api.json()).toMatchObject({ provider_prompt: shot, prompt: variants[0]!.prompt });
  });

  it('keeps the original prompt when a rewrite drops a level', async () => {
    fake.reset();
    chat.reply(json({ prompt: 'A generic beverage commercial.' }));
    const auth = await t.key('writer-co-2');
    const s = await setupCampaign(t, auth, { levels: { tone: ['Witty'], setting: ['Desert'] } });
    const run = await startRun(t, auth, { ...s, key: 'writer-2' });
    await waitForRun(t, auth, run.id);
    const [v] = await variantsOf(t, run.id);
    expect(fake.createCalls.map((c) => c.prompt)).toEqual([v!.prompt]);
  });
});
