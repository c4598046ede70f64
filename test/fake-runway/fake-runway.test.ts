import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../fake-provider/index.ts';
import {
  type FakeRunwayOptions,
  type FakeRunwayServer,
  RUNWAY_VERSION,
  startFakeRunway,
} from './index.ts';

const servers: FakeRunwayServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(opts: FakeRunwayOptions = {}) {
  const s = await startFakeRunway({ mediaMatchesRequest: false, ...opts });
  servers.push(s);
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${s.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${s.apiKey}`,
        'x-runway-version': RUNWAY_VERSION,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      json: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
    };
  };
  return { s, call };
}

const t2v = (over: Record<string, unknown> = {}) => ({
  model: 'gen4.5',
  promptText: 'a lighthouse',
  ratio: '1280:720',
  duration: 4,
  ...over,
});

describe('fake runway: the gate', () => {
  it('answers 401 without the Bearer key and 400 without X-Runway-Version', async () => {
    const { s, call } = await fake();
    expect((await call('GET', '/v1/organization', undefined, { authorization: '' })).status).toBe(
      401,
    );
    const noVersion = await call('POST', '/v1/text_to_video', t2v(), { 'x-runway-version': '' });
    expect(noVersion).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/X-Runway-Version/) },
    });
    // A refusal at the gate is no create.
    expect(s.createCalls).toHaveLength(0);
  });

  it('validates per model and route with 400 {"error"}, counting every create', async () => {
    const { s, call } = await fake();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['/v1/text_to_video', t2v({ model: 'gen4_turbo' }), /does not support text_to_video/],
      ['/v1/text_to_video', t2v({ ratio: '960:960' }), /'ratio'/],
      ['/v1/text_to_video', t2v({ duration: undefined }), /'duration': required/],
      ['/v1/text_to_video', t2v({ model: 'veo3.1', duration: 5 }), /one of 4, 6, 8/],
      ['/v1/text_to_video', t2v({ promptText: 'x'.repeat(1001) }), /at most 1000/],
      ['/v1/text_to_video', t2v({ audio: true }), /'audio'/],
      ['/v1/image_to_video', t2v({ promptImage: 'http://cdn.example.com/a.png' }), /HTTPS/],
      ['/v1/image_to_video', t2v({ promptImage: 'https://10.0.0.1/a.png' }), /domain name/],
      ['/v1/image_to_video', t2v(), /'promptImage': required/],
    ];
    for (const [path, body, message] of cases) {
      const res = await call('POST', path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error).toMatch(message);
    }
    expect(s.tasks.size).toBe(0);
    expect(s.createCount('a lighthouse')).toBe(cases.length - 1);
    const ok = await call(
      'POST',
      '/v1/image_to_video',
      t2v({ ratio: '960:960', promptImage: 'https://cdn.example.com/a.png' }),
    );
    expect(ok).toMatchObject({ status: 200, json: { estimatedCost: { credits: 48 } } });
  });
});

describe('fake runway: tasks', () => {
  it('throttles above the per-model limit and starts waiting tasks in submission order', async () => {
    const clock = manualClock();
    const { s, call } = await fake({
      clock: clock.now,
      maxConcurrent: 1,
      defaults: { pendingMs: 100, renderMs: 400, progressSteps: 4 },
    });
    const ids: string[] = [];
    for (const p of ['one', 'two', 'three']) {
      ids.push((await call('POST', '/v1/text_to_video', t2v({ promptText: p }))).json.id as string);
    }
    // Another model has its own slots.
    const veo = await call('POST', '/v1/text_to_video', t2v({ model: 'veo3.1', duration: 4 }));
    const statuses = () => ids.map((id) => s.statusOf(id));
    expect(statuses()).toEqual(['PENDING', 'THROTTLED', 'THROTTLED']);
    expect(s.statusOf(veo.json.id as string)).toBe('PENDING');
    clock.advance(300);
    expect((await call('GET', `/v1/tasks/${ids[0]}`)).json).toMatchObject({
      status: 'RUNNING',
      progress: 0.5,
    });
    clock.advance(200);
    expect(statuses()).toEqual(['SUCCEEDED', 'PENDING', 'THROTTLED']);
    // Cancelling the running one hands its slot to the next at once.
    expect((await call('DELETE', `/v1/tasks/${ids[1]}`)).status).toBe(204);
    expect(statuses()).toEqual(['SUCCEEDED', 'CANCELLED', 'PENDING']);
    expect((await call('GET', `/v1/tasks/${ids[1]}`)).json).toMatchObject({ cost: { credits: 0 } });
    expect(s.peakConcurrent('gen4.5')).toBe(1);
    // DELETE of a finished task deletes it.
    expect((await call('DELETE', `/v1/tasks/${ids[0]}`)).status).toBe(204);
    expect((await call('GET', `/v1/tasks/${ids[0]}`)).status).toBe(404);
  });

  it('mints a fresh output URL on every GET; each expires after its TTL with a 403', async () => {
    const clock = manualClock();
    const { call } = await fake({
      clock: clock.now,
      outputTtlMs: 1000,
      defaults: { pendingMs: 0, renderMs: 0 },
    });
    const { id } = (await call('POST', '/v1/text_to_video', t2v())).json as { id: string };
    const first = (await call('GET', `/v1/tasks/${id}`)).json as {
      output: string[];
      cost: unknown;
    };
    expect(first.cost).toEqual({ credits: 48 });
    const res = await fetch(first.output[0]!);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(
      Buffer.from(await res.arrayBuffer())
        .subarray(4, 8)
        .toString('latin1'),
    ).toBe('ftyp');
    clock.advance(1000);
    expect((await fetch(first.output[0]!)).status).toBe(403);
    const second = (await call('GET', `/v1/tasks/${id}`)).json as { output: string[] };
    expect(second.output[0]).not.toBe(first.output[0]);
    expect((await fetch(second.output[0]!)).status).toBe(200);
  });

  it('fails with the code asked for and zero cost', async () => {
    const { call } = await fake({
      defaults: { pendingMs: 0, renderMs: 0 },
      behave: [{ match: 'nsfw', outcome: 'failed', failureCode: 'SAFETY.INPUT.TEXT' }],
    });
    const { id } = (await call('POST', '/v1/text_to_video', t2v({ promptText: 'nsfw' }))).json;
    expect((await call('GET', `/v1/tasks/${id}`)).json).toMatchObject({
      status: 'FAILED',
      failureCode: 'SAFETY.INPUT.TEXT',
      cost: { credits: 0 },
    });
  });
});

describe('fake runway: limits and injected faults', () => {
  it('answers the daily cap with 429 and Retry-After, by rolling count or by switch', async () => {
    const clock = manualClock();
    const { s, call } = await fake({ clock: clock.now, dailyLimit: 2 });
    await call('POST', '/v1/text_to_video', t2v());
    clock.advance(3_600_000);
    await call('POST', '/v1/text_to_video', t2v());
    const capped = await call('POST', '/v1/text_to_video', t2v());
    expect(capped.status).toBe(429);
    expect(capped.json.error).toMatch(/daily generation limit for model gen4\.5/);
    // The oldest of the day ages out in 23 h.
    expect(capped.headers.get('retry-after')).toBe(String(23 * 3600));
    s.setLimits({ dailyLimit: null });
    s.setDailyCapReached(true, 60);
    const switched = await call('POST', '/v1/text_to_video', t2v({ model: 'veo3.1' }));
    expect([switched.status, switched.headers.get('retry-after')]).toEqual([429, '60']);
  });

  it('injects 5xx on reads, and on create with or without a task behind it', async () => {
    const { s, call } = await fake({
      behave: [
        { match: 'quiet', outcome: 'error_5xx', errorStatus: 502 },
        { match: 'stored', outcome: 'error_5xx', createAnyway: true, failTimes: 1 },
      ],
    });
    expect((await call('POST', '/v1/text_to_video', t2v({ promptText: 'quiet' }))).status).toBe(
      502,
    );
    expect(s.tasks.size).toBe(0);
    expect((await call('POST', '/v1/text_to_video', t2v({ promptText: 'stored' }))).status).toBe(
      500,
    );
    expect(s.tasks.size).toBe(1);
    const again = await call('POST', '/v1/text_to_video', t2v({ promptText: 'stored' }));
    expect(again.status).toBe(200);
    expect(s.createCount('stored')).toBe(2);
    s.failReads(1, 503);
    expect((await call('GET', `/v1/tasks/${again.json.id}`)).status).toBe(503);
    expect((await call('GET', `/v1/tasks/${again.json.id}`)).status).toBe(200);
  });

  it('creates the task, then drops the connection without a reply', async () => {
    const { s, call } = await fake({ behave: [{ match: 'drop', outcome: 'drop_reply' }] });
    await expect(call('POST', '/v1/text_to_video', t2v({ promptText: 'drop' }))).rejects.toThrow();
    expect(s.tasks.size).toBe(1);
    expect(s.createCalls[0]).toMatchObject({ status: 0, taskId: [...s.tasks.keys()][0] });
  });

  it('reset forgets tasks, calls and switches', async () => {
    const { s, call } = await fake();
    await call('POST', '/v1/text_to_video', t2v());
    s.setDailyCapReached(true);
    s.reset();
    expect([s.tasks.size, s.createCalls.length]).toEqual([0, 0]);
    expect((await call('POST', '/v1/text_to_video', t2v())).status).toBe(200);
  });
});
