import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, waitForRun } from '../helpers/scenario.ts';
import type { Schema } from '../helpers/schema-arbitrary.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import { type FuzzRequest, type KnownIds, type Operation, requestArb } from './fuzz-requests.ts';

/**
 * Every operation of the OpenAPI document the app generates, driven with generated and mutated
 * requests (a valid full-scope key, real objects' ids and others'). Whatever comes in: never a
 * 5xx, and every 4xx is problem+json whose `status` is the HTTP status.
 *
 * Seeded: a failure prints the seed and the request. Replay with FUZZ_SEED=<seed>; explore with
 * FUZZ_SEED=random, or more with FUZZ_RUNS=<n> (default 20 per operation).
 */
const seed =
  process.env.FUZZ_SEED === 'random'
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.FUZZ_SEED ?? 20_261_203);
// 20 per operation keeps the file near 30 s on 2 loaded cores; FUZZ_RUNS=200 to explore.
const numRuns = Number(process.env.FUZZ_RUNS ?? 20);
if (process.env.FUZZ_SEED === 'random') console.info(`fuzz: FUZZ_SEED=${seed}`);

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

// Built at collection time so each operation is a test of its own name.
const t: TestApp = await createTestApp({ WEBHOOK_ALLOW_HOSTS: 'hooks.test' });
const doc = t.app.swagger() as {
  paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>;
  components: { schemas: Record<string, Schema> };
};
const components = doc.components.schemas;
const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path })),
);
let auth: string;
let ids: KnownIds;

async function ok(res: { statusCode: number; body: string }, expected: number, what: string) {
  if (res.statusCode !== expected) throw new Error(`${what}: ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body) as { id: string };
}

beforeAll(async () => {
  auth = await t.key('fuzz');
  const other = await t.key('fuzz-other');
  const own: Record<string, string[]> = {};
  const add = (id: string) => {
    const prefix = id.slice(0, 3);
    own[prefix] = [...(own[prefix] ?? []), id];
  };

  // Ready variants (so media, links, reviews and deliveries have something to act on), then a
  // run left queued with no worker.
  const video = { provider: 'local' as const, seconds: 1, size: '320x180' };
  const a = await setupCampaign(t, auth, { levels: { tone: ['playful', 'earnest'] }, video });
  add(a.campaignId);
  add(a.matrixId);
  const workers = startTestWorkers(t);
  const done = await startRun(t, auth, { ...a, key: 'fuzz-ready' });
  await waitForRun(t, auth, done.id, 'completed', 50_000);
  await workers.close();
  add(done.id);
  const queued = await startRun(t, auth, { ...a, key: 'fuzz-queued', design: { type: 'full' } });
  add(queued.id);
  const headers = { authorization: auth };
  const variants = await t.app.inject({ method: 'GET', url: '/v1/variants?limit=10', headers });
  for (const v of variants.json().data as { id: string }[]) add(v.id);
  const events = await t.app.inject({ method: 'GET', url: '/v1/events', headers });
  for (const e of events.json().data as { id: string }[]) add(e.id);
  const delivery = await t.app.inject({
    method: 'POST',
    url: `/v1/variants/${own.var![0]}/deliveries`,
    headers,
    payload: { destination: 'meta_ads', external_id: 'ad_1' },
  });
  add((await ok(delivery, 201, 'delivery')).id);
  const endpoint = await t.app.inject({
    method: 'POST',
    url: '/v1/webhook-endpoints',
    headers,
    payload: { url: 'http://hooks.test/in', events: ['variant.ready'] },
  });
  add((await ok(endpoint, 201, 'endpoint')).id);
  const asset = await t.app.inject({
    method: 'POST',
    url: '/v1/assets',
    headers: { ...headers, 'content-type': 'multipart/form-data; boundary=b' },
    payload: Buffer.concat([
      Buffer.from(
        '--b\r\nContent-Disposition: form-data; name="file"; filename="acme.png"\r\nContent-Type: image/png\r\n\r\n',
      ),
      (await import('node:fs')).readFileSync(
        new URL('../../examples/logos/acme.png', import.meta.url),
      ),
      Buffer.from('\r\n--b--\r\n'),
    ]),
  });
  add((await ok(asset, 201, 'asset')).id);

  // Another tenant's objects: each must be a 404 to this key, never a 5xx.
  const b = await setupCampaign(t, other, { levels: { tone: ['x'] }, video });
  const bRun = await startRun(t, other, { ...b, key: 'fuzz-other' });
  ids = { own, other: [b.campaignId, b.matrixId, bRun.id] };
}, 120_000);

afterAll(async () => {
  // The runs and replays fuzzed here left jobs under this file's prefix: remove them.
  const keys = await t.infra.redis.keys(`${t.config.QUEUE_PREFIX}:*`);
  if (keys.length) await t.infra.redis.del(...keys);
  await t.close();
});

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

function describeRequest(r: FuzzRequest) {
  const body =
    r.payload === undefined
      ? ''
      : `\n  body (${r.mutation}): ${clip(Buffer.isBuffer(r.payload) ? r.payload.toString('latin1') : r.payload)}`;
  return `${r.method} ${clip(r.url, 200)}\n  headers: ${JSON.stringify({ ...r.headers, authorization: 'Bearer <full-scope key>' })}${body}`;
}

/** Why the answer breaks the contract, or undefined when it keeps it. */
function breach(op: Operation, a: Answer): string | undefined {
  // Readiness answers 503 by design: `?workers=1` with no render worker alive.
  const expected503 = op.path === '/readyz' && a.status === 503;
  if (a.status >= 500 && !expected503) return `a ${a.status}`;
  if (a.status < 400) return undefined;
  if (!a.contentType.startsWith('application/problem+json'))
    return `a ${a.status} as ${a.contentType || 'no content type'}`;
  let status: unknown;
  try {
    status = JSON.parse(a.body).status;
  } catch {
    return `a ${a.status} whose problem+json does not parse`;
  }
  return status === a.status ? undefined : `a ${a.status} whose problem says status ${status}`;
}

describe('every operation of the OpenAPI document, fuzzed', () => {
  it('covers the whole document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(41);
  });

  for (const op of operations) {
    it(`${op.method} ${op.path}`, { timeout: 60_000 }, async () => {
      const arb = requestArb(op, { components, hint: undefined }, ids, auth);
      const result = await fc.check(
        fc.asyncProperty(arb, async (request) => {
          let answer: Answer;
          try {
            const res = await t.app.inject({
              method: request.method as 'GET',
              url: request.url,
              headers: request.headers,
              ...(request.payload !== undefined ? { payload: request.payload } : {}),
            });
            answer = {
              status: res.statusCode,
              contentType: String(res.headers['content-type'] ?? ''),
              body: res.body,
            };
          } catch (e) {
            throw new Error(`inject threw ${(e as Error).message}`);
          }
          const why = breach(op, answer);
          if (!why) return true;
          throw new Error(
            `${why}\n${describeRequest(request)}\n  → ${answer.status} ${answer.contentType}\n  ${clip(answer.body, 500)}`,
          );
        }),
        { seed, numRuns, endOnFailure: true },
      );
      if (result.failed)
        expect.fail(
          `${op.method} ${op.path} broke the contract (FUZZ_SEED=${seed}, run ${result.numRuns}):\n${(result.errorInstance as Error | null)?.message ?? 'interrupted'}`,
        );
    });
  }
});

describe('what the fuzzing found, pinned', () => {
  it('a multipart body cut short is a 400, not a 500', async () => {
    for (const url of ['/v1/assets', '/v1/metrics']) {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: { authorization: auth, 'content-type': 'multipart/form-data; boundary=b' },
        payload: '--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nab',
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().detail).toMatch(/multipart body is malformed/);
    }
  });
});
