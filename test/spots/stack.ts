import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeVideoServer, startFakeVideoServer } from '../fake-provider/index.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { startTestWorkers } from '../helpers/workers.ts';

export interface SpotStack {
  t: TestApp;
  fake: FakeVideoServer;
  auth: string;
  dir: string;
  close(): Promise<void>;
}

/** The api, render workers and the fake OpenAI-shaped gateway, for one spot test file. */
export async function startSpotStack(tenant: string, concurrency = 8): Promise<SpotStack> {
  const dir = await mkdtemp(join(tmpdir(), `amx-${tenant}-`));
  const fake = await startFakeVideoServer({ defaults: { queuedMs: 5, renderMs: 20 } });
  const t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    ...openaiApiOnly,
  });
  const workers = startTestWorkers(t, {
    OPENAI_API_KEY: 'test',
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_RPM: '100000',
    OPENAI_MAX_CONCURRENT: '50',
    RENDER_CONCURRENCY: String(concurrency),
    RENDER_POLL_INTERVAL_MS: '30',
    RENDER_DEADLINE_MS: '60000',
  });
  const auth = await t.key(tenant);
  return {
    t,
    fake,
    auth,
    dir,
    async close() {
      await workers.close();
      await t.close();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
