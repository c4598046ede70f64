import type { LookupFunction } from 'node:net';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createRedis } from '../../src/queue/redis.ts';
import { type RunningWorkers, startWorkers } from '../../src/queue/workers.ts';
import { createDispatchNudge, webhookProcessors } from '../../src/webhooks/jobs.ts';
import { type EventListener, startEventListener } from '../../src/webhooks/listener.ts';
import { createWebhookMetrics } from '../../src/webhooks/metrics.ts';
import { createWebhookSender } from '../../src/webhooks/sender/index.ts';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { recordTestEvent, whoAmI } from './helpers.ts';
import { type Receiver, startReceiver } from './sender/receiver.ts';

let t: TestApp;
let auth: string;
let tenantId: string;
let rx: Receiver;
let workers: RunningWorkers;
let listener: EventListener;
/** The worker's log lines: where operators (and only they) see which address was blocked. */
const serverLog: string[] = [];

/** Public-looking names that resolve where an attacker would point them. */
const fakeDns: Record<string, string> = {
  'hooks.example.test': '127.0.0.1',
  'metadata.example.test': '169.254.169.254',
};
const lookup: LookupFunction = (hostname, options, callback) => {
  const address = fakeDns[hostname];
  if (!address)
    return callback(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), '', 4);
  if (options.all)
    return (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
      { address, family: 4 },
    ]);
  callback(null, address, 4);
};

beforeAll(async () => {
  // The api lets 127.0.0.1 register (as a developer would), but the worker runs the default
  // policy: nothing exempt. That is what a production deployment looks like.
  t = await createTestApp({ WEBHOOK_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_RETRY_SCALE: '0.001' });
  auth = await t.key('ssrf-co');
  tenantId = (await whoAmI(t, auth)).tenant_id;
  rx = await startReceiver();
  const env = Object.fromEntries(
    Object.entries(t.config).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v ?? '')]),
  );
  const config = loadConfig({ ...env, WEBHOOK_ALLOW_HOSTS: '' });
  expect(config.WEBHOOK_ALLOW_HOSTS).toEqual([]);
  const logger = pino({ level: 'warn' }, { write: (line: string) => void serverLog.push(line) });
  const processors = webhookProcessors(config, {
    db: t.infra.database.db,
    queues: t.infra.queues,
    logger,
    metrics: createWebhookMetrics(t.infra.registry),
    sender: createWebhookSender({ allowHosts: config.WEBHOOK_ALLOW_HOSTS, lookup }),
  });
  workers = startWorkers({
    connection: createRedis(config.REDIS_URL, 'worker'),
    prefix: config.QUEUE_PREFIX,
    logger,
    registry: processors,
    only: ['webhook-dispatch', 'webhook-delivery'],
  });
  listener = startEventListener({
    url: config.DATABASE_URL,
    logger,
    onNotify: createDispatchNudge(t.infra.queues, logger),
  });
});
afterAll(async () => {
  await listener.close();
  await workers.close();
  await rx.close();
  await t.close();
});

async function attemptsOf(url: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/webhook-endpoints',
    headers: { authorization: auth },
    payload: { url, events: ['variant.ready'] },
  });
  expect(res.statusCode, res.body).toBe(201);
  const { id } = res.json();
  return async () => {
    const { rows } = await t.testDb.db.execute<{ outcome: string; error: string; attempt: number }>(
      sql`SELECT outcome, error, attempt FROM webhook_attempts WHERE endpoint_id = ${id} ORDER BY attempt`,
    );
    return rows;
  };
}

describe('SSRF protection at delivery time (default policy)', () => {
  it('blocks and logs deliveries to loopback and metadata addresses, by IP or by name', async () => {
    const cases = [
      { url: `https://127.0.0.1:${rx.port}/hook`, why: /loopback/ },
      {
        url: `https://hooks.example.test:${rx.port}/hook`,
        why: /127\.0\.0\.1 \(resolved from hooks\.example\.test\).*loopback/,
      },
      {
        url: 'https://metadata.example.test/latest/meta-data',
        why: /169\.254\.169\.254.*link-local/,
      },
    ];
    const logs: Awaited<ReturnType<typeof attemptsOf>>[] = [];
    for (const c of cases) logs.push(await attemptsOf(c.url));
    await recordTestEvent(t, tenantId);
    for (const [i, c] of cases.entries()) {
      // Retried on the schedule like any failure, and blocked every time.
      const rows = await waitFor(async () => {
        const r = await logs[i]!();
        return r.length >= 2 ? r : undefined;
      });
      for (const row of rows) {
        expect(row.outcome).toBe('blocked');
        // The tenant learns nothing of what its name resolved to.
        expect(row.error).toBe('blocked: private address');
      }
      expect(serverLog.some((line) => c.why.test(line))).toBe(true);
    }
    expect(rx.connections).toBe(0);
    expect(rx.requests).toHaveLength(0);
  });
});
