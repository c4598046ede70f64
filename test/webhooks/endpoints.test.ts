import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secrets.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { recordTestEvent, whoAmI } from './helpers.ts';

let t: TestApp;
let auth: string;
let other: string;
let tenantId: string;

beforeAll(async () => {
  t = await createTestApp();
  auth = await t.key('hooks-co');
  other = await t.key('hooks-rival');
  tenantId = (await whoAmI(t, auth)).tenant_id;
});
afterAll(async () => {
  await t.close();
});

const call = (
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  as = auth,
) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: as },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

async function createEndpoint(body: Record<string, unknown> = {}) {
  const res = await call('POST', '/v1/webhook-endpoints', {
    url: 'https://hooks.example.com/admatrix',
    events: ['variant.ready', 'run.completed'],
    ...body,
  });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; secret: string; [k: string]: unknown };
}

describe('webhook endpoints', () => {
  it('shows the secret once and stores it sealed', async () => {
    const created = await createEndpoint({ description: 'CRM' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({
      url: 'https://hooks.example.com/admatrix',
      events: ['variant.ready', 'run.completed'],
      description: 'CRM',
      enabled: true,
      disabled_reason: null,
      previous_secret_expires_at: null,
    });
    const got = await call('GET', `/v1/webhook-endpoints/${created.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json().secret).toBeUndefined();
    expect(got.body).not.toContain(created.secret);
    const { rows } = await t.testDb.db.execute<{ secret_ciphertext: string }>(
      sql`SELECT secret_ciphertext FROM webhook_endpoints WHERE id = ${created.id}`,
    );
    const sealed = rows[0]!.secret_ciphertext;
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain(created.secret.slice(6, 20));
    expect(createSecretBox(t.config.SECRETS_KEY).open(sealed)).toBe(created.secret);
  });

  it.each([
    ['http://hooks.example.com/x', 'url must use https'],
    ['https://127.0.0.1/x', 'loopback'],
    ['https://10.1.2.3/x', 'private'],
    ['https://169.254.169.254/latest', 'link-local'],
    ['https://localhost/x', 'loopback'],
    ['https://[::1]/x', 'loopback'],
    ['https://user:pw@hooks.example.com/x', 'credentials'],
    ['ftp://hooks.example.com/x', 'https'],
  ])('refuses %s with 422 naming url', async (url, why) => {
    const res = await call('POST', '/v1/webhook-endpoints', { url, events: ['variant.ready'] });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors[0].path).toBe('url');
    expect(JSON.stringify(res.json().errors)).toContain(why);
  });

  it('refuses unknown or no event types as malformed', async () => {
    for (const events of [[], ['variant.exploded']]) {
      const res = await call('POST', '/v1/webhook-endpoints', {
        url: 'https://hooks.example.com/x',
        events,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0].path).toMatch(/^events/);
    }
  });

  it('lists with a cursor', async () => {
    const mine = await t.key('hooks-lister');
    for (let i = 0; i < 3; i++) {
      const res = await call(
        'POST',
        '/v1/webhook-endpoints',
        { url: `https://hooks.example.com/${i}`, events: ['variant.ready'] },
        mine,
      );
      expect(res.statusCode).toBe(201);
    }
    const first = (await call('GET', '/v1/webhook-endpoints?limit=2', undefined, mine)).json();
    expect(first.data).toHaveLength(2);
    expect(first.next_cursor).toBeTruthy();
    const second = (
      await call(
        'GET',
        `/v1/webhook-endpoints?limit=2&cursor=${first.next_cursor}`,
        undefined,
        mine,
      )
    ).json();
    expect(second.data.map((e: { url: string }) => e.url)).toEqual(['https://hooks.example.com/2']);
    expect(second.next_cursor).toBeNull();
  });

  it('updates, disables with a reason and re-enables with a clean slate', async () => {
    const { id } = await createEndpoint();
    const patched = await call('PATCH', `/v1/webhook-endpoints/${id}`, {
      events: ['variant.approved'],
      description: 'renamed',
    });
    expect(patched.json()).toMatchObject({ events: ['variant.approved'], description: 'renamed' });
    const off = (await call('PATCH', `/v1/webhook-endpoints/${id}`, { enabled: false })).json();
    expect(off).toMatchObject({ enabled: false, disabled_reason: 'disabled through the API' });
    expect(off.disabled_at).toBeTruthy();
    await t.testDb.db.execute(
      sql`UPDATE webhook_endpoints SET failing_since = now() - interval '2 days' WHERE id = ${id}`,
    );
    const on = (await call('PATCH', `/v1/webhook-endpoints/${id}`, { enabled: true })).json();
    expect(on).toMatchObject({
      enabled: true,
      disabled_reason: null,
      disabled_at: null,
      failing_since: null,
    });
    const bad = await call('PATCH', `/v1/webhook-endpoints/${id}`, { url: 'https://192.168.1.1/' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('url');
  });

  it('rotates the secret, keeping the old one for the overlap', async () => {
    const created = await createEndpoint();
    const res = await call('POST', `/v1/webhook-endpoints/${created.id}/rotate-secret`);
    expect(res.statusCode).toBe(200);
    const rotated = res.json();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const overlapEnds = Date.parse(rotated.previous_secret_expires_at);
    expect(overlapEnds - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    expect(overlapEnds - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    const { rows } = await t.testDb.db.execute<{ previous_secret_ciphertext: string }>(
      sql`SELECT previous_secret_ciphertext FROM webhook_endpoints WHERE id = ${created.id}`,
    );
    expect(createSecretBox(t.config.SECRETS_KEY).open(rows[0]!.previous_secret_ciphertext)).toBe(
      created.secret,
    );
  });

  it('deletes an endpoint', async () => {
    const { id } = await createEndpoint();
    expect((await call('DELETE', `/v1/webhook-endpoints/${id}`)).statusCode).toBe(204);
    expect((await call('GET', `/v1/webhook-endpoints/${id}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/v1/webhook-endpoints/${id}`)).statusCode).toBe(404);
  });

  it('lists events, and replays one to its subscribers or to one endpoint', async () => {
    const sub = await createEndpoint({ events: ['run.completed'] });
    const eventId = await recordTestEvent(t, tenantId, 'run.completed', { run_id: 'run_x' });
    const listed = (await call('GET', '/v1/events?type=run.completed')).json();
    expect(listed.data.map((e: { id: string }) => e.id)).toContain(eventId);
    const one = (await call('GET', `/v1/events/${eventId}`)).json();
    expect(one).toMatchObject({ id: eventId, type: 'run.completed', data: { run_id: 'run_x' } });

    const replay = await call('POST', `/v1/events/${eventId}/replay`);
    expect(replay.statusCode).toBe(202);
    expect(replay.json().deliveries.map((d: { endpoint_id: string }) => d.endpoint_id)).toContain(
      sub.id,
    );
    const again = await call('POST', `/v1/events/${eventId}/replay`, { endpoint_id: sub.id });
    expect(again.json().deliveries).toEqual([
      {
        id: replay.json().deliveries.find((d: { endpoint_id: string }) => d.endpoint_id === sub.id)
          .id,
        endpoint_id: sub.id,
      },
    ]);
    await call('PATCH', `/v1/webhook-endpoints/${sub.id}`, { enabled: false });
    const disabled = await call('POST', `/v1/events/${eventId}/replay`, { endpoint_id: sub.id });
    expect(disabled.statusCode).toBe(422);
    const attempts = await call('GET', `/v1/webhook-endpoints/${sub.id}/attempts`);
    expect(attempts.statusCode).toBe(200);
    expect(attempts.json()).toEqual({ data: [], next_cursor: null });
  });

  it('answers 404 to another tenant on every route, and 403 without the scope', async () => {
    const { id } = await createEndpoint();
    const eventId = await recordTestEvent(t, tenantId);
    const routes: [Parameters<typeof call>[0], string, unknown?][] = [
      ['GET', `/v1/webhook-endpoints/${id}`],
      ['PATCH', `/v1/webhook-endpoints/${id}`, { description: 'mine now' }],
      ['DELETE', `/v1/webhook-endpoints/${id}`],
      ['POST', `/v1/webhook-endpoints/${id}/rotate-secret`],
      ['GET', `/v1/webhook-endpoints/${id}/attempts`],
      ['GET', `/v1/events/${eventId}`],
      ['POST', `/v1/events/${eventId}/replay`],
      ['POST', `/v1/events/${eventId}/replay`, { endpoint_id: id }],
    ];
    for (const [method, url, body] of routes) {
      const res = await call(method, url, body, other);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    const otherList = (await call('GET', '/v1/webhook-endpoints', undefined, other)).json();
    expect(otherList.data.map((e: { id: string }) => e.id)).not.toContain(id);
    const otherEvents = (await call('GET', '/v1/events', undefined, other)).json();
    expect(otherEvents.data).toEqual([]);
    // Still there, untouched.
    expect((await call('GET', `/v1/webhook-endpoints/${id}`)).json().description).toBeNull();

    const readOnly = await t.key('hooks-co', ['campaigns:read']);
    expect((await call('GET', '/v1/webhook-endpoints', undefined, readOnly)).statusCode).toBe(403);
    expect(
      (await call('POST', `/v1/events/${eventId}/replay`, undefined, readOnly)).statusCode,
    ).toBe(403);
  });
});
