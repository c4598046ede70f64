import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const adminKey = 'admin-key-for-tests-0123456789';
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ ADMIN_API_KEY: adminKey });
});
afterAll(() => t.close());

describe('queue dashboard', () => {
  it('asks for the admin key', async () => {
    const none = await t.app.inject('/admin/queues');
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    const tenantKey = await t.key('not-an-operator');
    expect(
      (await t.app.inject({ url: '/admin/queues', headers: { authorization: tenantKey } }))
        .statusCode,
    ).toBe(401);
    const wrong = Buffer.from(`admin:${adminKey}x`).toString('base64');
    expect(
      (await t.app.inject({ url: '/admin/queues', headers: { authorization: `Basic ${wrong}` } }))
        .statusCode,
    ).toBe(401);
  });

  it('serves the UI and the queue counts to the operator', async () => {
    const basic = Buffer.from(`ops:${adminKey}`).toString('base64');
    const ui = await t.app.inject({
      url: '/admin/queues',
      headers: { authorization: `Basic ${basic}` },
    });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    // As the README says: any user name (even none), the admin key as the password.
    for (const user of ['', 'anyone']) {
      const other = Buffer.from(`${user}:${adminKey}`).toString('base64');
      const res = await t.app.inject({
        url: '/admin/queues',
        headers: { authorization: `Basic ${other}` },
      });
      expect(res.statusCode).toBe(200);
    }
    const api = await t.app.inject({
      url: '/admin/queues/api/queues',
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(api.statusCode).toBe(200);
    const names = (api.json().queues as { name: string }[]).map((q) => q.name);
    expect(names).toEqual(
      expect.arrayContaining(['housekeeping', 'render-local', 'render-openai']),
    );
  });
});
