import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantService } from '../../src/tenants/service.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import {
  type ConsoleClient,
  campaignForm,
  createCampaign as createCampaignWith,
  formBody,
  matrixCsv,
  signIn,
} from './helpers.ts';

let t: TestApp;
let bearer: string;
let c: ConsoleClient;

beforeAll(async () => {
  t = await createTestApp();
  bearer = await t.key('console-auth-co');
  c = await signIn(t, bearer);
});
afterAll(() => t?.close());

const createCampaign = (client = c) => createCampaignWith(client);

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
    // Fetch metadata from a sibling site, though the Origin header is missing.
    const sibling = await c.post('/console/campaigns', campaignForm, {
      headers: { 'sec-fetch-site': 'same-site' },
    });
    expect(sibling.statusCode).toBe(403);
    // Nor can another site sign a browser in with its own key (login CSRF).
    const signInFrom = (site: string) =>
      t.app.inject({
        method: 'POST',
        url: '/console/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': site },
        payload: formBody({ api_key: bearer.slice(7) }),
      });
    const forcedSignIn = await signInFrom('cross-site');
    expect(forcedSignIn.statusCode).toBe(403);
    expect(forcedSignIn.headers['set-cookie']).toBeUndefined();
    const ownSignIn = await signInFrom('same-origin');
    expect(ownSignIn.statusCode).toBe(303);
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

describe('console scopes', () => {
  it("acts with the key's scopes: a read-only key looks but cannot change, report or see webhooks", async () => {
    const id = await createCampaign();
    const readOnly = await t.key('console-auth-co', ['campaigns:read']);
    const r = await signIn(t, readOnly);
    expect((await r.get(`/console/campaigns/${id}`)).statusCode).toBe(200);
    const create = await r.post('/console/campaigns', campaignForm);
    expect(create.statusCode).toBe(403);
    expect(create.body).toContain('lacks the scope campaigns:write');
    const matrixId = await uploadMatrix(id);
    const start = await r.post(`/console/campaigns/${id}/runs`, {
      matrix_id: matrixId,
      design: 'full',
      idempotency_key: `console-${crypto.randomUUID()}`,
    });
    expect(start.statusCode).toBe(403);
    const upload = await r.upload(`/console/campaigns/${id}/matrices`, {
      name: 'm.csv',
      body: matrixCsv,
    });
    expect(upload.statusCode).toBe(403);
    const runs = await t.testDb.pool.query('SELECT 1 FROM runs WHERE campaign_id = $1', [id]);
    expect(runs.rows).toHaveLength(0);
    expect((await r.get(`/console/campaigns/${id}/report`)).statusCode).toBe(403);
    expect((await r.get(`/console/campaigns/${id}/report.csv`)).statusCode).toBe(403);
    expect((await r.get('/console/webhooks')).statusCode).toBe(403);
    // Signing out needs no scope.
    expect((await r.post('/console/sign-out', {})).statusCode).toBe(303);
    const reporter = await signIn(t, await t.key('console-auth-co', ['reports:read']));
    expect((await reporter.get(`/console/campaigns/${id}/report`)).statusCode).toBe(200);
    expect((await reporter.get(`/console/campaigns/${id}`)).statusCode).toBe(403);
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

  it('slides the end of a used session, never past CONSOLE_SESSION_HOURS after sign-in', async () => {
    const s = await signIn(t, await t.key('console-sliding-co'));
    const where = `WHERE tenant_id = (SELECT id FROM tenants WHERE name = 'console-sliding-co')`;
    const end = async () =>
      (
        await t.testDb.pool.query<{ left_s: number }>(
          `SELECT extract(epoch FROM expires_at - now())::float8 AS left_s FROM console_sessions ${where}`,
        )
      ).rows[0]?.left_s;
    // Signed in: the idle window (60 min by default), not the 12 h maximum.
    expect(await end()).toBeGreaterThan(59 * 60);
    expect(await end()).toBeLessThanOrEqual(60 * 60);
    // Nearly idle out, then used: a full idle window again.
    await t.testDb.pool.query(
      `UPDATE console_sessions SET expires_at = now() + interval '2 minutes' ${where}`,
    );
    expect((await s.get('/console')).statusCode).toBe(200);
    expect(await end()).toBeGreaterThan(59 * 60);
    // The run page's own progress poll is not a use: the end stays where it was.
    await t.testDb.pool.query(
      `UPDATE console_sessions SET expires_at = now() + interval '2 minutes' ${where}`,
    );
    await s.get('/console/runs/run_01abcdefghij/progress', { 'hx-request': 'true' });
    expect(await end()).toBeLessThan(3 * 60);
    // Signed in 11 h 30 min ago: a use extends only to the 12 h maximum.
    await t.testDb.pool.query(
      `UPDATE console_sessions SET created_at = now() - interval '11 hours 30 minutes', expires_at = now() + interval '2 minutes' ${where}`,
    );
    expect((await s.get('/console')).statusCode).toBe(200);
    const left = await end();
    expect(left).toBeGreaterThan(29 * 60);
    expect(left).toBeLessThanOrEqual(30 * 60);
    // Past the maximum, however recently used: signed out.
    await t.testDb.pool.query(
      `UPDATE console_sessions SET created_at = now() - interval '12 hours', expires_at = now() - interval '1 second' ${where}`,
    );
    expect((await s.get('/console')).statusCode).toBe(303);
  });

  it('ends a session left unused for CONSOLE_SESSION_IDLE_MINUTES', async () => {
    const idle = await createTestApp({
      CONSOLE_SESSION_IDLE_MINUTES: '1',
      CONSOLE_SESSION_HOURS: '1',
    });
    try {
      const s = await signIn(idle, await idle.key('console-idle-co'));
      const { rows } = await idle.testDb.pool.query<{ left_s: number }>(
        'SELECT extract(epoch FROM expires_at - now())::float8 AS left_s FROM console_sessions',
      );
      expect(rows[0]?.left_s).toBeLessThanOrEqual(60);
      await idle.testDb.pool.query(
        `UPDATE console_sessions SET expires_at = now() - interval '1 second'`,
      );
      expect((await s.get('/console')).statusCode).toBe(303);
    } finally {
      await idle.close();
    }
  });

  it('starts a new session and CSRF token at sign-in, ending the one the browser had', async () => {
    const key = await t.key('console-rotate-co');
    const first = await signIn(t, key);
    const again = await t.app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { cookie: first.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: formBody({ api_key: key.slice(7) }),
    });
    expect(again.statusCode).toBe(303);
    const cookie = String(again.headers['set-cookie']).split(';')[0] as string;
    expect(cookie).not.toBe(first.cookie);
    // The cookie the browser held before signing in (perhaps planted) is worth nothing now.
    expect((await first.get('/console')).statusCode).toBe(303);
    const home = await t.app.inject({ method: 'GET', url: '/console', headers: { cookie } });
    expect(home.statusCode).toBe(200);
    expect(home.body).not.toContain(first.csrf);
  });

  it("spends the key's RATE_LIMIT_PER_MINUTE budget, shared with /v1; static files are free", async () => {
    const limited = await createTestApp({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const key = await limited.key('console-rate-co');
      const s = await signIn(limited, key); // its look at the home page is the first request
      expect((await s.get('/console')).statusCode).toBe(200);
      expect((await s.get('/console')).statusCode).toBe(200);
      const over = await s.get('/console');
      expect(over.statusCode).toBe(429);
      expect(over.headers['content-type']).toContain('text/html');
      expect(over.headers['retry-after']).toBeDefined();
      const v1 = await limited.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: key },
      });
      expect(v1.statusCode).toBe(429);
      for (let i = 0; i < 4; i++)
        expect((await s.get('/console/static/console.css')).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
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
