import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDeliveryBody } from '../../src/deliveries/schemas.ts';
import { canonical } from '../../src/http/idempotency/plugin.ts';
import { findTooDeep, jsonLength } from '../../src/http/json-body.ts';
import { findNul } from '../../src/http/nul-guard.ts';
import { createTenantService } from '../../src/tenants/service.ts';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { cliPath } from '../helpers/process.ts';

let t: TestApp;
let auth: string;
beforeAll(async () => {
  t = await createTestApp();
  auth = await t.key('json-body');
});
afterAll(() => t.close());

/** `{"a":[{"a":[…]}]}` nested `levels` containers deep, as text, built without recursion. */
function nestedText(levels: number): string {
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < levels; i++) {
    open.push(i % 2 === 0 ? '{"a":' : '[');
    close.push(i % 2 === 0 ? '}' : ']');
  }
  return `${open.join('')}1${close.reverse().join('')}`;
}

function nestedValue(levels: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
}

const id = 'x_01jz0000000000000000000000';
// One JSON route per family; the depth check runs before auth-free parsing reaches any handler.
const routes: [method: 'POST' | 'PATCH', url: string][] = [
  ['POST', '/v1/campaigns'],
  ['PATCH', `/v1/campaigns/${id}`],
  ['POST', `/v1/campaigns/${id}/matrices`],
  ['POST', `/v1/matrices/${id}/preview`],
  ['POST', `/v1/campaigns/${id}/runs`],
  ['POST', `/v1/variants/${id}/deliveries`],
  ['POST', `/v1/variants/${id}/review`],
  ['POST', '/v1/webhook-endpoints'],
  ['POST', '/v1/metrics'],
];

describe('JSON nesting depth', () => {
  for (const levels of [65, 10_000, 200_000]) {
    it.each(routes)(
      `answers 400 naming the depth at ${levels} levels: %s %s`,
      async (method, url) => {
        const res = await t.app.inject({
          method,
          url,
          headers: {
            authorization: auth,
            'content-type': 'application/json',
            'idempotency-key': `deep-${levels}-${url}`,
          },
          payload: `{"metadata":${nestedText(levels - 1)}}`,
        });
        expect(res.statusCode).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.json().detail).toMatch(/at most 64 levels/);
        const path: string = res.json().errors[0].path;
        expect(path.startsWith('metadata.a.0.a.0.')).toBe(true);
        expect(path.split('.').length).toBe(64);
      },
    );
  }

  it('accepts 64 levels (then the schema decides)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: `{"name":${nestedText(63)}}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ path: 'name' });
  });

  it('keeps fastify’s proto-poisoning refusal', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: '{"name":"x","__proto__":{"admin":true}}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('ignores brackets inside strings and escaped quotes', () => {
    expect(findTooDeep(`{"a":"${'['.repeat(500)}\\"${'{'.repeat(500)}"}`)).toBeNull();
    expect(findTooDeep('{"k\\"ey":[[1,2],[3,[4]]]}', 3)).toEqual(['k"ey', 1, 1]);
  });
});

describe('the walks over parsed JSON are iterative', () => {
  const deep = nestedValue(200_000);
  it('finds a NUL 200,000 levels down', () => {
    let v: unknown = 'bad\u0000';
    for (let i = 0; i < 200_000; i++) v = { a: v };
    expect(findNul(v)?.length).toBe(200_000);
    expect(findNul(deep)).toBeNull();
  });

  it('fingerprints and sizes a 200,000-level value', () => {
    expect(canonical(deep).startsWith('{"a":[{"a":[')).toBe(true);
    expect(canonical(deep).length).toBe(jsonLength(deep));
    expect(canonical({ b: [1, { d: 1, c: undefined }], a: 'x' })).toBe('{"a":"x","b":[1,{"d":1}]}');
    for (const v of [{ a: [1, null, 'x"y', { b: true }], c: {} }, nestedValue(50), []]) {
      expect(jsonLength(v)).toBe(JSON.stringify(v).length);
    }
    expect(jsonLength(deep, 16_384)).toBeGreaterThan(16_384);
    const parsed = createDeliveryBody.safeParse({ destination: 'meta', metadata: { deep } });
    expect(parsed.success).toBe(false);
  });
});

describe('JSON body size', () => {
  it('keeps the normal limit for JSON on POST /v1/metrics (the CSV stream keeps its own)', async () => {
    // Under METRICS_MAX_ROWS, over BODY_LIMIT_BYTES: the byte limit must be what answers.
    const rows = Array.from({ length: 100_000 }, () => '{"impressions":1}').join(',');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: `{"rows":[${rows}]}`,
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().detail).toMatch(/body is too large/i);

    const csv = `variant_id,date,platform,impressions,clicks\n${'v_unknown,2026-01-01,meta,1,0\n'.repeat(40_000)}`;
    expect(csv.length).toBeGreaterThan(t.config.BODY_LIMIT_BYTES);
    const big = await t.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: auth, 'content-type': 'text/csv' },
      payload: csv,
    });
    // Read whole and checked row by row: the unknown variant is the answer, not the size.
    expect(big.statusCode).toBe(422);
  });

  it('survives the reproducer under the image’s 512 MB heap', async () => {
    const { key } = await createTenantService({ db: t.testDb.db }).createKey({ tenant: 'heap' });
    const child = spawn(process.execPath, [cliPath, 'api'], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_OPTIONS: '--max-old-space-size=512',
        DATABASE_URL: t.testDb.url,
        REDIS_URL: inject('redisUrl'),
        QUEUE_PREFIX: t.config.QUEUE_PREFIX,
        LOG_LEVEL: 'info',
        PORT: '0',
        HOST: '127.0.0.1',
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      const url = await waitFor(() => /Server listening at (http:\/\/[\d.:]+)/.exec(out)?.[1], {
        timeoutMs: 20_000,
        what: 'the api to listen',
      });
      // 4,000,000 empty objects: 12 MB.
      const body = `{"rows":[${'{},'.repeat(3_999_999)}{}]}`;
      const res = await fetch(`${url}/v1/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      }).catch((err: Error) => ({ status: 0, error: err, headers: new Headers() }));
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) =>
        child.exitCode === null ? child.once('exit', resolve) : resolve(null),
      );
    }
  }, 60_000);
});
