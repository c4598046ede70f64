import { Job, Queue } from 'bullmq';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { housekeepingProcessors } from '../../src/ops/jobs.ts';
import { createRedis } from '../../src/queue/redis.ts';
import { queueNames } from '../../src/queue/registry.ts';
import {
  MissingProcessorError,
  type RunningWorkers,
  startWorkers,
} from '../../src/queue/workers.ts';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { removeKeysUnder } from '../helpers/redis.ts';

let t: TestApp;
let running: RunningWorkers;
beforeAll(async () => {
  t = await createTestApp({}, 'worker');
  const logger = pino({ level: 'silent' });
  running = startWorkers({
    connection: createRedis(t.config.REDIS_URL, 'worker'),
    prefix: t.config.QUEUE_PREFIX,
    logger,
    registry: housekeepingProcessors({
      db: t.testDb.db,
      logger,
      reconcile: async () => ({}),
      webhookLogRetentionDays: 30,
    }),
    only: ['housekeeping'],
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
  it('refuse to start while a queue has no processor', async () => {
    const connection = createRedis(t.config.REDIS_URL, 'worker');
    try {
      const logger = pino({ level: 'silent' });
      const partial = housekeepingProcessors({
        db: t.testDb.db,
        logger,
        reconcile: async () => ({}),
        webhookLogRetentionDays: 30,
      });
      const start = () =>
        startWorkers({ connection, prefix: t.config.QUEUE_PREFIX, logger, registry: partial });
      expect(start).toThrow(MissingProcessorError);
      expect(start).toThrow(
        /no processor for queue render-local, render-openai, render-runway, render-fal, webhook-dispatch/,
      );
      // Every queue of the registry counts, the render queue of each provider included.
      expect(queueNames).toEqual(
        expect.arrayContaining(['render-local', 'render-openai', 'render-runway', 'render-fal']),
      );
    } finally {
      connection.disconnect();
    }
  });

  it("the worker's processors cover every queue", async () => {
    const { workerProcessors } = await import('../../src/main/worker.ts');
    const processors = workerProcessors(t.config, t.infra, pino({ level: 'silent' }));
    expect(Object.keys(processors).sort()).toEqual([...queueNames].sort());
  });

  it('delays a job that meets a Postgres outage instead of spending its attempts', async () => {
    // A queue prefix of its own: the file's housekeeping worker must not take this job.
    const prefix = `${t.config.QUEUE_PREFIX.slice(0, -1)}db}`;
    const connection = createRedis(t.config.REDIS_URL, 'worker');
    const queue = new Queue('housekeeping', { connection, prefix });
    let calls = 0;
    const failures: string[] = [];
    const outage = startWorkers({
      connection,
      prefix,
      logger: pino({ level: 'silent' }),
      registry: {
        housekeeping: {
          process: async () => {
            calls++;
            // What pg says when Postgres is shutting down (57P01), then refuses connections.
            if (calls === 1)
              throw Object.assign(new Error('terminating connection'), { code: '57P01' });
            if (calls === 2)
              throw new Error('Failed query', {
                cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
              });
            return 'done';
          },
        },
      },
      only: ['housekeeping'],
    });
    outage.workers[0]!.on('failed', (_job, err) => failures.push(err.message));
    try {
      // One attempt only: had the outage spent it, the job would have failed for good.
      const job = await queue.add('housekeeping', { task: 'reconcile' }, { attempts: 1 });
      const done = await waitFor(
        async () => {
          const j = await Job.fromId(queue, job.id!);
          return j?.finishedOn ? j : undefined;
        },
        { what: 'the delayed job to complete' },
      );
      expect(done.returnvalue).toBe('done');
      expect(calls).toBe(3);
      expect(failures).toEqual([]);
    } finally {
      await outage.close();
      await queue.close();
      await removeKeysUnder(connection, prefix);
      connection.disconnect();
    }
  });

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

  it('purges settled webhook deliveries past retention with their attempts, and old tombstones', async () => {
    const auth = await t.key('house-webhooks');
    const tenantId = (
      await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: auth } })
    ).json().tenant_id;
    const q = (text: string) => t.testDb.pool.query(text, [tenantId]);
    await q(`INSERT INTO events (id, tenant_id, type, data, created_at) VALUES
      ('evt_old', $1, 'variant.ready', '{}', now() - interval '40 days'),
      ('evt_new', $1, 'variant.ready', '{}', now())`);
    await q(`INSERT INTO webhook_endpoints (id, tenant_id, url, events, secret_ciphertext, deleted_at) VALUES
      ('whe_live', $1, 'https://x.example/h', '{variant.ready}', 'sealed', NULL),
      ('whe_gone', $1, 'https://x.example/h', '{variant.ready}', 'sealed', now() - interval '40 days'),
      ('whe_gone_lately', $1, 'https://x.example/h', '{variant.ready}', 'sealed', now() - interval '1 day')`);
    await q(`INSERT INTO webhook_deliveries (id, tenant_id, event_id, endpoint_id, status, created_at) VALUES
      ('whd_old_done', $1, 'evt_old', 'whe_live', 'delivered', now() - interval '40 days'),
      ('whd_old_pending', $1, 'evt_old', 'whe_gone_lately', 'pending', now() - interval '40 days'),
      ('whd_recent_failed', $1, 'evt_new', 'whe_live', 'failed', now() - interval '10 days'),
      ('whd_old_gone', $1, 'evt_old', 'whe_gone', 'delivered', now() - interval '40 days')`);
    await q(`INSERT INTO webhook_attempts (id, tenant_id, delivery_id, endpoint_id, event_id, attempt, outcome, duration_ms, created_at) VALUES
      ('wha_1', $1, 'whd_old_done', 'whe_live', 'evt_old', 1, 'failed', 5, now() - interval '40 days'),
      ('wha_2', $1, 'whd_old_done', 'whe_live', 'evt_old', 2, 'delivered', 5, now() - interval '39 days'),
      ('wha_3', $1, 'whd_old_pending', 'whe_gone_lately', 'evt_old', 1, 'failed', 5, now() - interval '40 days'),
      ('wha_4', $1, 'whd_recent_failed', 'whe_live', 'evt_new', 1, 'failed', 5, now() - interval '10 days'),
      ('wha_5', $1, 'whd_old_gone', 'whe_gone', 'evt_old', 1, 'delivered', 5, now() - interval '40 days')`);
    await t.testDb.pool.query(`INSERT INTO inbound_webhooks (provider, webhook_id, received_at) VALUES
      ('openai', 'wh_old', now() - interval '8 days'), ('openai', 'wh_new', now() - interval '1 day')`);

    const job = await t.infra.queues
      .get('housekeeping')
      .add('housekeeping', { task: 'purge-webhook-history' });
    const done = await finished(job.id!);
    expect(done.returnvalue).toEqual({ deliveries: 2, inbound: 1, endpoints: 1 });
    const left = async (table: string, column: string) =>
      (await t.testDb.pool.query(`SELECT ${column} AS v FROM ${table} ORDER BY 1`)).rows.map(
        (r) => r.v,
      );
    expect(await left('webhook_deliveries', 'id')).toEqual([
      'whd_old_pending',
      'whd_recent_failed',
    ]);
    expect(await left('webhook_attempts', 'id')).toEqual(['wha_3', 'wha_4']);
    expect(await left('webhook_endpoints', 'id')).toEqual(['whe_gone_lately', 'whe_live']);
    expect(await left('inbound_webhooks', 'webhook_id')).toEqual(['wh_new']);
    expect(await left('events', 'id')).toEqual(['evt_new', 'evt_old']);
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
