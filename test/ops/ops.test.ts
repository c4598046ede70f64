import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { ProblemError } from '../../src/http/problem.ts';
import { createInfra } from '../../src/main/infra.ts';
import { serveMetrics } from '../../src/ops/metrics.ts';
import { createTestApp, type TestApp, testConfig } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** An app whose Postgres or Redis points at a port where nothing listens. */
async function appWithDeadBackend(dead: 'postgres' | 'redis') {
  const config = testConfig({
    DATABASE_URL: dead === 'postgres' ? 'postgres://postgres@127.0.0.1:1/none' : t.testDb.url,
    ...(dead === 'redis' ? { REDIS_URL: 'redis://127.0.0.1:1' } : {}),
  });
  const logger = pino({ level: 'silent' });
  const infra = await createInfra(config, logger, 'api', {
    verifySchema: false,
    redisWaitMs: dead === 'redis' ? 0 : 5_000,
  });
  const app = await buildApp({ config, logger, ...infra });
  return {
    app,
    queues: infra.queues,
    async close() {
      await app.close();
      await infra.close();
    },
  };
}

describe('health and readiness', () => {
  it('is healthy and ready with both backends up', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  for (const dead of ['redis', 'postgres'] as const) {
    it(`is not ready when ${dead} is down, and says which`, async () => {
      const broken = await appWithDeadBackend(dead);
      try {
        const res = await broken.app.inject('/readyz');
        expect(res.statusCode).toBe(503);
        expect(res.headers['content-type']).toMatch(/problem\+json/);
        expect(res.json().errors).toEqual([{ path: dead, message: 'unreachable' }]);
        expect((await broken.app.inject('/healthz')).statusCode).toBe(200);
      } finally {
        await broken.close();
      }
    });
  }

  it('fails a producer fast with a 503 problem when Redis is down', async () => {
    const broken = await appWithDeadBackend('redis');
    try {
      const started = Date.now();
      const err = await broken.queues
        .enqueue('housekeeping', { task: 'purge-idempotency-keys' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProblemError);
      expect((err as ProblemError).status).toBe(503);
      // Not a timing assertion: a producer that waited for Redis would still be waiting.
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await broken.close();
    }
  });
});

describe('metrics and docs', () => {
  it('exposes request latency by route template and queue gauges', async () => {
    const auth = await t.key('metrics');
    await t.app.inject({
      method: 'GET',
      url: '/v1/campaigns/cmp_x',
      headers: { authorization: auth },
    });
    const res = await t.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(
      /http_request_duration_seconds_count\{[^}]*method="GET",route="\/v1\/campaigns\/:id",status_code="404"/,
    );
    expect(res.body).toMatch(/queue_jobs\{queue="housekeeping",state="waiting"/);
  });

  it('shows the process itself (heap, event loop, CPU) and keeps it behind METRICS_TOKEN when set', async () => {
    const open = (await t.app.inject('/metrics')).body;
    for (const metric of [
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(open).toContain(`${metric}{service="admatrix-api"}`);

    const token = 'metrics-token-0123456789';
    const guarded = await buildApp({
      config: { ...t.config, METRICS_TOKEN: token },
      logger: pino({ level: 'silent' }),
      ...t.infra,
      registry: new Registry(),
    });
    try {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${token}x`, token]) {
        const res = await guarded.inject({
          url: '/metrics',
          headers: authorization ? { authorization } : {},
        });
        expect(res.statusCode).toBe(401);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      const ok = await guarded.inject({
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(ok.statusCode).toBe(200);
    } finally {
      await guarded.close();
    }
    // The worker's metrics port asks the same.
    const server = await serveMetrics(t.infra.registry, { host: '127.0.0.1', port: 0, token });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
        200,
      );
    } finally {
      server.close();
    }
  });

  it('serves the API reference and an OpenAPI 3.1 document', async () => {
    const docs = await t.app.inject('/docs/');
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
    const spec = (await t.app.inject('/openapi.json')).json();
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/v1/campaigns', '/v1/campaigns/{id}', '/readyz']),
    );
    expect(spec.components.schemas.Problem).toBeDefined();
  });
});
