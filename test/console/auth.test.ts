import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantService } from '../../src/tenants/service.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { type ConsoleClient, campaignForm, formBody, matrixCsv, signIn } from './helpers.ts';

let t: TestApp;
let bearer: string;
let c: ConsoleClient;

beforeAll(async () => {
  t = await createTestApp();
  bearer = await t.key('console-auth-co');
  c = await signIn(t, bearer);
});
afterAll(() => t?.close());

async function createCampaign(client = c) {
  const res = await client.post('/console/campaigns', campaignForm);
  expect(res.statusCode).toBe(303);
  return String(res.headers.location).split('/').at(-1) as string;
}

async function uploadMatrix(campaignId: string) {
  const res = await c.upload(`/console/campaigns/${campaignId}/matrices`, {
    name: 'm.csv',
    body: matrixCsv,
  });
  expect(res.statusCode).toBe(303);
  return String(res.headers.location).split('/').at(-1) as string;
}

describe('console sign-in', () => {
  it('shows a form labelled "API key" with a "Sign in" button, under a CSP without inline scripts', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/console/sign-in' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<label for="api_key">API key</label>');
    expect(res.body).toContain('<button type="submit">Sign in</button>');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.body).not.toMatch(/<script>|<script [^>]*>[^<]/);
  });

  it('sends a page without a session to sign-in, and a htmx request an HX-Redirect', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/console' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console/sign-in');
    const frag = await t.app.inject({
      method: 'GET',
      url: '/console/runs/run_01abcdefghij/progress',
      headers: { 'hx-request': 'true' },
    });
    expect(frag.statusCode).toBe(401);
    expect(frag.headers['hx-redirect']).toBe('/console/sign-in');
  });

  it('refuses an unknown key with 401 and sets no cookie', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: formBody({ api_key: `amx_${'x'.repeat(43)}` }),
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toContain('unknown or revoked');
  });

  it('sets an HttpOnly, SameSite=Strict, expiring cookie that is not the key; Secure behind HTTPS', async () => {
    const key = bearer.slice(7);
    const res = await t.app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-proto': 'https',
      },
      payload: formBody({ api_key: key }),
    });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Expires=/);
    expect(cookie).not.toContain(key);
    // TRUST_PROXY is off here, so the forwarded proto is not believed: no Secure on plain HTTP.
    expect(cookie).not.toMatch(/Secure/);
    const https = await createTestApp({ TRUST_PROXY: 'true' });
    try {
      const k = await https.key('secure-co');
      const r = await https.app.inject({
        method: 'POST',
        url: '/console/sign-in',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-proto': 'https',
        },
        payload: formBody({ api_key: k.slice(7) }),
      });
      expect(String(r.headers['set-cookie'])).toMatch(/; Secure/);
    } finally {
      await https.close();
    }
  });

  it('stores only the hash of the session id', async () => {
    const { rows } = await t.testDb.pool.query<{ id_hash: string }>(
      'SELECT id_hash FROM console_sessions',
    );
    const id = c.cookie.split('=')[1] as string;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.id_hash)).not.toContain(id);
  });

  it('has a "Sign out" button on every page, and signing out ends the session server-side', async () => {
    const other = await signIn(t, bearer);
    const home = await other.get('/console');
    expect(home.body).toContain('<button type="submit">Sign out</button>');
    const out = await other.post('/console/sign-out', {});
    expect(out.statusCode).toBe(303);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    // The old cookie, replayed, is worth nothing.
    expect((await other.get('/console')).statusCode).toBe(303);
  });

  it('ends the sessions of a revoked key', async () => {
    const key = await t.key('revoked-console-co');
    const s = await signIn(t, key);
    expect((await s.get('/console')).statusCode).toBe(200);
    await createTenantService({ db: t.testDb.db }).revokeKey(key.slice(7, 19));
    expect((await s.get('/console')).statusCode).toBe(303);
  });

  it('refuses a POST without the CSRF token, with a wrong one, and from another origin', async () => {
    const none = await c.post('/console/campaigns', campaignForm, { csrf: null });
    expect(none.statusCode).toBe(403);
    const wrong = await c.post('/console/campaigns', campaignForm, { csrf: 'nope' });
    expect(wrong.statusCode).toBe(403);
    const cross = await c.post('/console/campaigns', campaignForm, {
      headers: { origin: 'https://evil.example' },
    });
    expect(cross.statusCode).toBe(403);
    // Multipart elsewhere carries no parsed token: refused, not waved through.
    const multipartCancel = await c.upload(
      '/console/runs/run_01abcdefghij/cancel',
      {
        name: 'x.csv',
        body: 'x',
      },
      c.csrf,
    );
    expect(multipartCancel.statusCode).toBe(403);
    const upload = await c.upload(
      '/console/campaigns/cmp_01abcdefghij/matrices',
      { name: 'm.csv', body: matrixCsv },
      'wrong',
    );
    expect(upload.statusCode).toBe(403);
  });
});

describe('console session limits', () => {
  it('sends an expired session back to sign-in', async () => {
    const s = await signIn(t, await t.key('console-expiry-co'));
    expect((await s.get('/console')).statusCode).toBe(200);
    await t.testDb.pool.query(
      `UPDATE console_sessions SET expires_at = now() - interval '1 second'
       WHERE tenant_id = (SELECT id FROM tenants WHERE name = 'console-expiry-co')`,
    );
    expect((await s.get('/console')).statusCode).toBe(303);
  });

  it('limits failed sign-ins per address, sharing the /v1 failure budget', async () => {
    const limited = await createTestApp({ AUTH_FAILURES_PER_MINUTE: '2' });
    try {
      const good = (await limited.key('limited-co')).slice(7);
      const attempt = (apiKey: string) =>
        limited.app.inject({
          method: 'POST',
          url: '/console/sign-in',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: formBody({ api_key: apiKey }),
        });
      const bad = `amx_${'y'.repeat(43)}`;
      expect((await attempt(bad)).statusCode).toBe(401);
      expect((await attempt(bad)).statusCode).toBe(401);
      const third = await attempt(bad);
      expect(third.statusCode).toBe(429);
      expect(third.headers['retry-after']).toBeDefined();
      // Blocked for the window, the right key included: guessing stops paying off.
      expect((await attempt(good)).statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('retries failed variants of a run (none here: back to the run page)', async () => {
    const id = await createCampaign();
    const matrixId = await uploadMatrix(id);
    const started = await c.post(`/console/campaigns/${id}/runs`, {
      matrix_id: matrixId,
      design: 'pairwise',
      idempotency_key: `console-${crypto.randomUUID()}`,
    });
    const runUrl = String(started.headers.location);
    const retry = await c.post(`${runUrl}/retry`, {});
    expect(retry.statusCode).toBe(303);
    expect(retry.headers.location).toBe(runUrl);
  });
});
