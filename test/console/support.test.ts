import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { type ConsoleClient, createCampaign as createCampaignWith, signIn } from './helpers.ts';

let t: TestApp;
let bearer: string;
let c: ConsoleClient;

beforeAll(async () => {
  t = await createTestApp();
  bearer = await t.key('console-support-co');
  c = await signIn(t, bearer);
});
afterAll(() => t?.close());

const createCampaign = (client = c) => createCampaignWith(client);

describe('console deliveries and webhooks (read-only)', () => {
  it("lists a campaign's deliveries, and 404s another tenant's", async () => {
    const id = await createCampaign();
    const res = await c.get(`/console/campaigns/${id}/deliveries`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('No deliveries recorded yet.');
    const other = await signIn(t, await t.key('console-deliveries-other'));
    expect((await other.get(`/console/campaigns/${id}/deliveries`)).statusCode).toBe(404);
  });

  it('lists webhook endpoints and their attempt log; the secret never shows', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: { authorization: bearer },
      payload: { url: 'https://hooks.example.com/admatrix', events: ['variant.ready'] },
    });
    expect(created.statusCode).toBe(201);
    const { id, secret } = created.json() as { id: string; secret: string };
    const list = await c.get('/console/webhooks');
    expect(list.body).toContain(`/console/webhooks/${id}`);
    expect(list.body).toContain('https://hooks.example.com/admatrix');
    const attempts = await c.get(`/console/webhooks/${id}`);
    expect(attempts.statusCode).toBe(200);
    expect(attempts.body).toContain('No attempts yet.');
    expect(list.body + attempts.body).not.toContain(secret);
    const other = await signIn(t, await t.key('console-webhooks-other'));
    expect((await other.get(`/console/webhooks/${id}`)).statusCode).toBe(404);
  });
});
