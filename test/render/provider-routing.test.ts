import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerProcessors } from '../../src/main/worker.ts';
import { renderQueueOf, UnknownProviderError } from '../../src/render/enqueue.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

// openai configured for the api only (its campaigns pass the catalog); the workers of the
// "not configured" test run without its key.
let t: TestApp;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers> | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-routing-'));
  t = await createTestApp({
    ...openaiApiOnly,
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
  });
  auth = await t.key('routing-co');
});
afterAll(async () => {
  await workers?.close();
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

describe('providers and their queues', () => {
  it('routes no unknown provider to another provider', () => {
    expect(renderQueueOf('openai')).toBe('render-openai');
    expect(renderQueueOf('local')).toBe('render-local');
    expect(() => renderQueueOf('gen2')).toThrow(UnknownProviderError);
  });

  it('fails a variant of an unknown provider when reconciling, queueing it nowhere', async () => {
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['c'] },
      video: { provider: 'local', seconds: 2, size: '320x180' },
    });
    const run = await startRun(t, auth, { ...s, key: 'unknown' });
    const [v] = await variantsOf(t, run.id);
    // Its job lost with Redis, and a provider name no release knows in its row.
    const local = t.infra.queues.get('render-local');
    await local.remove(v!.id);
    await t.testDb.pool.query(
      `UPDATE variants SET provider = 'gen2', updated_at = now() - interval '1 hour' WHERE id = $1`,
      [v!.id],
    );
    const processors = workerProcessors(t.config, t.infra, pino({ level: 'silent' }));
    await processors.housekeeping!.process({ task: 'reconcile' }, undefined as never);
    const [after] = await variantsOf(t, run.id);
    expect([after!.status, after!.error_code]).toEqual(['failed', 'provider_unknown']);
    expect(await local.getJob(v!.id)).toBeUndefined();
  });

  it('fails a variant whose provider is not configured at once, with that code', async () => {
    // The api refuses an unconfigured provider (422); a worker without the key the api had
    // must still fail the variant rather than render it elsewhere.
    workers = startTestWorkers(t, { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' });
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['a', 'b'] },
      video: { provider: 'openai', seconds: 4, size: '720x1280' },
    });
    const run = await startRun(t, auth, { ...s, key: 'unconfigured' });
    // Well inside the retries' backoff: the job does not spend its eight attempts first.
    await waitForRun(t, auth, run.id, 'completed', 15_000);
    const variants = await variantsOf(t, run.id);
    expect(variants.map((v) => [v.status, v.error_code])).toEqual([
      ['failed', 'provider_not_configured'],
      ['failed', 'provider_not_configured'],
    ]);
  });
});
