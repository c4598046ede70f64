import { Job } from 'bullmq';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { housekeepingProcessors } from '../../src/ops/jobs.ts';
import { createRedis } from '../../src/queue/redis.ts';
import { type RunningWorkers, startWorkers } from '../../src/queue/workers.ts';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';

let t: TestApp;
let running: RunningWorkers;
beforeAll(async () => {
  t = await createTestApp({}, 'worker');
  const logger = pino({ level: 'silent' });
  running = startWorkers({
    connection: createRedis(t.config.REDIS_URL, 'worker'),
    prefix: t.config.QUEUE_PREFIX,
    logger,
    registry: housekeepingProcessors({ db: t.testDb.db, logger, reconcile: async () => ({}) }),
  });
});
afterAll(async () => {
  await running.close();
  await t.close();
});

async function finished(jobId: string) {
  const queue = t.infra.queues.get('housekeeping');
  return waitFor(
    async () => {
      const job = await Job.fromId(queue, jobId);
      return job && (job.finishedOn ? job : undefined);
    },
    { what: `job ${jobId} to finish` },
  );
}

describe('workers', () => {
  it('purges expired idempotency records through a real queue', async () => {
    const auth = await t.key('house');
    const tenantId = (
      await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: auth } })
    ).json().tenant_id;
    await t.testDb.pool.query(
      `INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash, state, locked_until, expires_at)
       VALUES ($1, 'old', 'POST', '/v1/x', 'h', 'completed', now(), now() - interval '1 hour'),
              ($1, 'live', 'POST', '/v1/x', 'h', 'completed', now(), now() + interval '1 hour')`,
      [tenantId],
    );
    const queue = t.infra.queues.get('housekeeping');
    const job = await queue.add('housekeeping', { task: 'purge-idempotency-keys' });
    const done = await finished(job.id!);
    expect(done.returnvalue).toEqual({ purged: 1 });
    const { rows } = await t.testDb.pool.query('SELECT key FROM idempotency_keys');
    expect(rows.map((r) => r.key)).toEqual(['live']);
  });

  it('fails a job with a payload outside its schema at once, without retries', async () => {
    const queue = t.infra.queues.get('housekeeping');
    // biome-ignore lint/suspicious/noExplicitAny: deliberately bypassing the typed producer
    const job = await (queue as any).add(
      'housekeeping',
      { task: 'drop-everything' },
      { attempts: 5 },
    );
    const done = await finished(job.id!);
    expect(done.failedReason).toMatch(/invalid housekeeping payload/);
    expect(done.attemptsMade).toBe(1);
  });

  it('refuses an invalid payload at the typed producer', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong
    await expect(t.infra.queues.enqueue('housekeeping', { task: 'nope' } as any)).rejects.toThrow();
  });
});
