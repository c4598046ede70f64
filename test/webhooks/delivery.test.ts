import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import {
  type HookReceiver,
  recordTestEvent,
  startHookReceiver,
  verifies,
  whoAmI,
} from './helpers.ts';

let t: TestApp;
let auth: string;
let tenantId: string;
let rx: HookReceiver;
let workers: ReturnType<typeof startTestWorkers>;

// A schedule of 0, 5 ms, 300 ms, 1.8 s, …: the real one divided by 1000.
const env = {
  WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  WEBHOOK_RETRY_SCALE: '0.001',
  RECONCILE_GRACE_MS: '0',
};

beforeAll(async () => {
  t = await createTestApp(env);
  workers = startTestWorkers(t);
  auth = await t.key('deliver-co');
  tenantId = (await whoAmI(t, auth)).tenant_id;
  rx = await startHookReceiver();
});
afterAll(async () => {
  await workers.close();
  await rx.close();
  await t.close();
});

async function endpoint(path: string, events = ['variant.ready', 'run.completed']) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/webhook-endpoints',
    headers: { authorization: auth },
    payload: { url: rx.url(path), events },
  });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; secret: string };
}

async function deliveryStatuses(endpointId: string) {
  const { rows } = await t.testDb.db.execute<{ status: string; n: number }>(sql`
    SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ${endpointId} GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
}

const allDelivered = (endpointId: string, n: number) => async () =>
  (await deliveryStatuses(endpointId)).delivered === n ? true : undefined;

async function endpointRow(id: string) {
  const { rows } = await t.testDb.db.execute<{
    enabled: boolean;
    disabled_reason: string | null;
    failing_since: string | null;
  }>(sql`SELECT enabled, disabled_reason, failing_since FROM webhook_endpoints WHERE id = ${id}`);
  return rows[0]!;
}

/** (path, webhook-id) → how many requests, and how many were answered 2xx. */
function tally(path: string) {
  const byId = new Map<string, { sent: number; ok: number; bodies: Set<string> }>();
  for (const h of rx.to(path)) {
    const id = String(h.headers['webhook-id']);
    const entry = byId.get(id) ?? { sent: 0, ok: 0, bodies: new Set() };
    entry.sent++;
    if (h.status >= 200 && h.status < 300) entry.ok++;
    entry.bodies.add(h.body);
    byId.set(id, entry);
  }
  return byId;
}

describe('event delivery to a loopback receiver', () => {
  it('signs every webhook so the standardwebhooks library verifies it', async () => {
    const ep = await endpoint('/sig');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(await recordTestEvent(t, tenantId, 'variant.ready', { i }));
    // Not subscribed: never sent.
    await recordTestEvent(t, tenantId, 'variant.approved');
    await waitFor(allDelivered(ep.id, 5), { what: 'five deliveries' });
    const got = rx.to('/sig');
    expect(got).toHaveLength(5);
    for (const h of got) {
      expect(verifies(h, ep.secret)).toBe(true);
      const body = JSON.parse(h.body);
      expect(Object.keys(body).sort()).toEqual(['created_at', 'data', 'id', 'type']);
      expect(body.type).toBe('variant.ready');
      expect(h.headers['webhook-id']).toBe(body.id);
      expect(h.headers['content-type']).toBe('application/json');
      expect(h.headers['user-agent']).toMatch(/^admatrix-webhooks/);
    }
    expect(new Set(got.map((h) => h.headers['webhook-id']))).toEqual(new Set(ids));
    expect(verifies(got[0]!, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(false);
  });

  it('delivers each event exactly once per endpoint after an outage; retries keep the id', async () => {
    const paths = ['/down0', '/down1', '/down2'];
    const eps: { id: string; secret: string }[] = [];
    for (const p of paths) eps.push(await endpoint(p, ['run.completed']));
    await rx.close();
    const events: string[] = [];
    for (let i = 0; i < 8; i++)
      events.push(await recordTestEvent(t, tenantId, 'run.completed', { i }));
    // Down: every delivery has failed at least twice against a closed port.
    await waitFor(
      async () => {
        const { rows } = await t.testDb.db.execute<{ n: number }>(sql`
          SELECT count(*)::int AS n FROM webhook_deliveries
          WHERE endpoint_id = ANY(${sql.param(eps.map((e) => e.id))}::text[]) AND attempts >= 2`);
        return rows[0]!.n === 24 ? true : undefined;
      },
      { what: 'two failed attempts each' },
    );
    // Back, but answering 500 to the first request per delivery: the retry must repeat the id.
    const seen = new Set<string>();
    rx.handle((h) => {
      const key = `${h.path} ${h.headers['webhook-id']}`;
      if (seen.has(key)) return { status: 204 };
      seen.add(key);
      return { status: 500, body: 'x'.repeat(5000) };
    });
    await rx.reopen();
    for (const ep of eps) await waitFor(allDelivered(ep.id, 8), { timeoutMs: 15_000 });
    for (const p of paths) {
      const byId = tally(p);
      expect(new Set(byId.keys())).toEqual(new Set(events));
      for (const entry of byId.values()) {
        expect(entry).toMatchObject({ sent: 2, ok: 1 });
        expect(entry.bodies.size).toBe(1);
      }
    }
    // The log: refused connections, the 500 with its excerpt capped, then the success.
    const log = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/webhook-endpoints/${eps[0]!.id}/attempts?event_id=${events[0]}`,
        headers: { authorization: auth },
      })
    ).json().data as {
      outcome: string;
      status_code: number | null;
      response_excerpt: string | null;
      error: string | null;
      attempt: number;
      duration_ms: number;
    }[];
    expect(log.map((a) => a.attempt)).toEqual(log.map((_, i) => i + 1));
    expect(log.at(-1)).toMatchObject({ outcome: 'delivered', status_code: 204 });
    const failed500 = log.find((a) => a.status_code === 500)!;
    expect(failed500.outcome).toBe('failed');
    expect(failed500.response_excerpt!.length).toBeLessThanOrEqual(2048);
    expect(log[0]).toMatchObject({ outcome: 'failed', status_code: null });
    expect(log[0]!.error).toMatch(/ECONNREFUSED/);
    expect((await endpointRow(eps[0]!.id)).failing_since).toBeNull();
    // The worker's metrics (the app's registry here; earlier tests add to the same counters).
    const metrics = (await t.app.inject('/metrics')).body;
    const value = (name: string, label = '') =>
      Number(
        metrics.match(new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\S+)$`, 'm'))?.[1] ??
          Number.NaN,
      );
    expect(value('webhook_attempts_total', 'outcome="delivered"')).toBeGreaterThanOrEqual(24);
    expect(value('webhook_attempts_total', 'outcome="failed"')).toBeGreaterThanOrEqual(24 * 3);
    expect(value('webhook_delivery_lag_seconds_count')).toBeGreaterThanOrEqual(24);
    expect(
      value('webhook_attempt_duration_seconds_count', 'outcome="failed"'),
    ).toBeGreaterThanOrEqual(24 * 3);
    rx.handle(() => ({ status: 204 }));
  });

  it('sends both signatures while a rotated secret overlaps, then only the new one', async () => {
    const ep = await endpoint('/rotate');
    const rotated = (
      await t.app.inject({
        method: 'POST',
        url: `/v1/webhook-endpoints/${ep.id}/rotate-secret`,
        headers: { authorization: auth },
      })
    ).json();
    await recordTestEvent(t, tenantId);
    await waitFor(allDelivered(ep.id, 1));
    const during = rx.to('/rotate')[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(during, ep.secret)).toBe(true);
    expect(verifies(during, rotated.secret)).toBe(true);

    await t.testDb.db.execute(sql`
      UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = ${ep.id}`);
    await recordTestEvent(t, tenantId);
    await waitFor(allDelivered(ep.id, 2));
    const after = rx.to('/rotate')[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifies(after, rotated.secret)).toBe(true);
    expect(verifies(after, ep.secret)).toBe(false);
  });

  it('disables an endpoint that answers 410 Gone and sends it nothing more', async () => {
    const ep = await endpoint('/gone');
    rx.handle((h) => (h.path === '/gone' ? { status: 410 } : { status: 204 }));
    for (let i = 0; i < 3; i++) await recordTestEvent(t, tenantId);
    await waitFor(async () => ((await endpointRow(ep.id)).enabled ? undefined : true));
    await waitFor(async () => ((await deliveryStatuses(ep.id)).pending ? undefined : true));
    expect((await endpointRow(ep.id)).disabled_reason).toMatch(/410 Gone/);
    const got = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/webhook-endpoints/${ep.id}`,
        headers: { authorization: auth },
      })
    ).json();
    expect(got).toMatchObject({ enabled: false });
    expect(got.disabled_reason).toMatch(/410/);
    const before = rx.to('/gone').length;
    const { rows: beforeRows } = await t.testDb.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ${ep.id}`,
    );
    // Dispatched after the disable: a probe endpoint shows the event went out, this one got none.
    const probe = await endpoint('/probe');
    await recordTestEvent(t, tenantId);
    await waitFor(allDelivered(probe.id, 1));
    const { rows: afterRows } = await t.testDb.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ${ep.id}`,
    );
    expect(afterRows[0]!.n).toBe(beforeRows[0]!.n);
    expect(rx.to('/gone').length).toBe(before);
    rx.handle(() => ({ status: 204 }));
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${probe.id}`,
      headers: { authorization: auth },
      payload: { enabled: false },
    });
  });

  it('disables an endpoint failing for longer than the limit, and says why', async () => {
    const old = await endpoint('/failing-old');
    const fresh = await endpoint('/failing-new');
    rx.handle((h) => (h.path.startsWith('/failing') ? { status: 502 } : { status: 204 }));
    await t.testDb.db.execute(sql`
      UPDATE webhook_endpoints SET failing_since = now() - interval '4 days' WHERE id = ${old.id}`);
    await recordTestEvent(t, tenantId);
    await waitFor(async () => ((await endpointRow(old.id)).enabled ? undefined : true));
    expect((await endpointRow(old.id)).disabled_reason).toMatch(
      /^every attempt failed since .*; the last: HTTP 502$/,
    );
    // Failing for minutes only: still enabled, retrying, with the failure clock started.
    await waitFor(async () => ((await endpointRow(fresh.id)).failing_since ? true : undefined));
    expect((await endpointRow(fresh.id)).enabled).toBe(true);
    for (const ep of [old, fresh])
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/webhook-endpoints/${ep.id}`,
        headers: { authorization: auth },
        payload: { enabled: false },
      });
    rx.handle(() => ({ status: 204 }));
  });

  it('waits as long as Retry-After asks on a 429', async () => {
    const ep = await endpoint('/throttle');
    let first = true;
    rx.handle((h) => {
      if (h.path !== '/throttle' || !first) return { status: 204 };
      first = false;
      return { status: 429, headers: { 'retry-after': '1' } };
    });
    await recordTestEvent(t, tenantId);
    await waitFor(allDelivered(ep.id, 1), { timeoutMs: 5_000 });
    const [a, b] = rx.to('/throttle');
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(950);
    const { rows } = await t.testDb.db.execute<{ outcome: string }>(
      sql`SELECT outcome FROM webhook_attempts WHERE endpoint_id = ${ep.id} ORDER BY attempt`,
    );
    expect(rows.map((r) => r.outcome)).toEqual(['throttled', 'delivered']);
    rx.handle(() => ({ status: 204 }));
  });

  it('replays an event with the same webhook-id', async () => {
    const ep = await endpoint('/replay');
    const eventId = await recordTestEvent(t, tenantId);
    await waitFor(allDelivered(ep.id, 1));
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/events/${eventId}/replay`,
      headers: { authorization: auth },
      payload: { endpoint_id: ep.id },
    });
    expect(res.statusCode).toBe(202);
    await waitFor(() => (rx.to('/replay').length === 2 ? true : undefined));
    const [a, b] = rx.to('/replay');
    expect(b!.headers['webhook-id']).toBe(a!.headers['webhook-id']);
    expect(b!.body).toBe(a!.body);
    expect(verifies(b!, ep.secret)).toBe(true);
    await waitFor(allDelivered(ep.id, 1));
  });

  it('loses nothing when Redis loses its jobs or no worker is running', async () => {
    const ep = await endpoint('/outage', ['run.completed']);
    await rx.close();
    const events: string[] = [];
    for (let i = 0; i < 4; i++) events.push(await recordTestEvent(t, tenantId, 'run.completed'));
    await waitFor(async () => {
      const { rows } = await t.testDb.db.execute<{ n: number }>(sql`
        SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ${ep.id} AND attempts >= 1`);
      return rows[0]!.n === 4 ? true : undefined;
    });
    // Every queued and delayed job gone, and a worker-less moment in which more events commit.
    await workers.close();
    const keys = await t.infra.redis.keys(`${t.config.QUEUE_PREFIX}:*`);
    if (keys.length) await t.infra.redis.del(...keys);
    for (let i = 0; i < 2; i++) events.push(await recordTestEvent(t, tenantId, 'run.completed'));
    await rx.reopen();
    workers = startTestWorkers(t);
    let revived = 0;
    await waitFor(
      async () => {
        const result = (await workers.reconcileWebhooks()) as { revived: number };
        revived += result.revived;
        return (await deliveryStatuses(ep.id)).delivered === 6 ? true : undefined;
      },
      { timeoutMs: 15_000, what: 'every delivery after the outage' },
    );
    // The four whose jobs Redis lost came back through the reconciler, from Postgres.
    expect(revived).toBeGreaterThanOrEqual(4);
    const byId = tally('/outage');
    expect(new Set(byId.keys())).toEqual(new Set(events));
    for (const entry of byId.values()) expect(entry.ok).toBe(1);
  });
});
