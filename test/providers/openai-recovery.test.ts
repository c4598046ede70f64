import { describe, expect, it } from 'vitest';
import { createOpenAIProvider } from '../../src/providers/openai.ts';
import { AMBIGUOUS_CREATE, type RenderSpec } from '../../src/providers/types.ts';
import { manualClock, waitUntil } from '../fake-provider/index.ts';
import { fakeWith, providerError, spec } from './helpers.ts';

/**
 * The crash window: the gateway created (and will bill) a render, but we never learned its id.
 * What the pipeline does: see `ambiguous_create`, call findExisting, adopt what it finds.
 */
describe('openai provider: a create that may have gone through', () => {
  it.each([
    ['the connection drops after the render was created', { outcome: 'drop_connection' as const }],
    [
      'a gateway answers 502 although its upstream created the render',
      { outcome: 'error_5xx' as const, httpStatus: 502, createAnyway: true },
    ],
  ])('%s: findExisting recovers it and nothing is created twice', async (_, behaviour) => {
    const { fake, client } = await fakeWith();
    fake.when('[lost]', behaviour);
    const provider = createOpenAIProvider({ client });
    const s = spec({ prompt: 'city lights [lost]' });
    const since = new Date();

    const e = await providerError(provider.submit(s));
    expect(e).toMatchObject({ kind: 'transient', code: AMBIGUOUS_CREATE });

    const found = await provider.findExisting(s, { since });
    expect(found).not.toBeNull();
    expect(found?.jobId).toBe(fake.createCalls[0]?.videoId);
    expect(fake.createCount('city lights [lost]')).toBe(1);
    await waitUntil(async () => (await provider.status(found!.jobId)).state === 'completed');
  });

  it('finds a lost render whose multi-line prompt the multipart body sent with CRLF', async () => {
    const { fake, client } = await fakeWith();
    fake.when('[lost-lines]', { outcome: 'drop_connection' });
    const provider = createOpenAIProvider({ client });
    // Spot shot templates may span lines; multipart/form-data turns each LF into CRLF.
    const s = spec({ prompt: 'Opening shot\nwide, dusk\r\nslow push-in [lost-lines]' });
    const since = new Date();

    expect((await providerError(provider.submit(s))).code).toBe(AMBIGUOUS_CREATE);
    const found = await provider.findExisting(s, { since });
    expect(found?.jobId).toBe(fake.createCalls[0]?.videoId);
    expect(fake.createCalls).toHaveLength(1);
  });

  it('a create that times out is ambiguous; the render it started is found', async () => {
    const { fake, client } = await fakeWith({}, { timeout: 100 });
    fake.when('[slow]', { createDelayMs: 400 });
    const provider = createOpenAIProvider({ client });
    const s = spec({ prompt: 'slow gateway [slow]' });
    const since = new Date();

    const e = await providerError(provider.submit(s));
    expect(e).toMatchObject({ kind: 'transient', code: AMBIGUOUS_CREATE });
    expect((await provider.findExisting(s, { since }))?.jobId).toBe(fake.createCalls[0]?.videoId);
    expect(fake.createCount('slow gateway [slow]')).toBe(1);
  });

  it('a 5xx that created nothing: findExisting answers null, so a resubmit is safe', async () => {
    const { fake, client } = await fakeWith();
    fake.when('[500]', { outcome: 'error_5xx', failTimes: 1 });
    const provider = createOpenAIProvider({ client });
    const s = spec({ prompt: 'flaky [500]' });
    const since = new Date();

    expect((await providerError(provider.submit(s))).code).toBe(AMBIGUOUS_CREATE);
    expect(await provider.findExisting(s, { since })).toBeNull();
    const { jobId } = await provider.submit(s);
    expect(fake.videos.has(jobId)).toBe(true);
    expect(fake.videos.size).toBe(1);
  });
});

describe('openai provider: findExisting picks the right render', () => {
  async function scene() {
    const clock = manualClock();
    const { fake, client } = await fakeWith({ clock: clock.now });
    const create = (s: RenderSpec, model = s.model) =>
      client.videos
        .create({
          prompt: s.prompt,
          model,
          seconds: String(s.seconds) as '4',
          size: s.size as '1280x720',
        })
        .then((v) => v.id);
    return { clock, fake, client, create };
  }

  it('skips excluded ids, other prompts, other shapes and renders older than since', async () => {
    const { clock, client, create } = await scene();
    const provider = createOpenAIProvider({ client });
    const s = spec({ prompt: 'sunset over the harbour' });

    const old = await create(s);
    clock.advance(10 * 60_000);
    const since = new Date(clock.now());
    await create({ ...s, prompt: 'sunset over the harbour, at night' });
    await create({ ...s, size: '720x1280' });
    await create({ ...s, seconds: 8 });
    await create(s, 'sora-2-pro');
    const a = await create(s);
    clock.advance(1000);
    const b = await create(s);
    clock.advance(1000);
    const c = await create(s);
    clock.advance(1000);

    // Oldest first: the render the first (lost) attempt created.
    expect(await provider.findExisting(s, { since })).toEqual({ jobId: a });
    // `a` belongs to another variant with the same prompt: take the next one.
    expect(await provider.findExisting(s, { since, exclude: new Set([a]) })).toEqual({ jobId: b });
    expect(await provider.findExisting(s, { since, exclude: new Set([a, b, c]) })).toBeNull();
    // A window reaching back far enough includes the old one.
    expect(await provider.findExisting(s, { since: new Date(clock.now() - 3_600_000) })).toEqual({
      jobId: old,
    });
  });

  it('allows for the provider clock lagging ours by up to the skew', async () => {
    const { clock, client, create } = await scene();
    const provider = createOpenAIProvider({ client, clockSkewMs: 120_000 });
    const s = spec();
    const id = await create(s);
    // Our clock says the attempt began 90 s after the provider stamped the render.
    expect(await provider.findExisting(s, { since: new Date(clock.now() + 90_000) })).toEqual({
      jobId: id,
    });
    expect(await provider.findExisting(s, { since: new Date(clock.now() + 150_000) })).toBeNull();
  });

  it('matches a dated snapshot of the requested model, not a different model', async () => {
    const { client, create } = await scene();
    const provider = createOpenAIProvider({ client });
    const s = spec({ model: 'sora-2' });
    const since = new Date(Date.now() - 1000);
    await create(s, 'sora-2-pro');
    expect(await provider.findExisting(s, { since })).toBeNull();
    const snap = await create(s, 'sora-2-2025-10-06');
    expect(await provider.findExisting(s, { since })).toEqual({ jobId: snap });
  });

  it('pages through the listing and stops at the first render older than the window', async () => {
    const { clock, fake, client, create } = await scene();
    const provider = createOpenAIProvider({ client, listPageSize: 2 });
    const s = spec();
    for (let i = 0; i < 5; i++) await create(spec());
    clock.advance(10 * 60_000);
    const since = new Date(clock.now());
    const target = await create(s);
    await create(spec());
    await create(spec());

    expect(await provider.findExisting(s, { since })).toEqual({ jobId: target });
    const lists = fake.requests.filter(
      (r) => r.method === 'GET' && r.url.startsWith('/v1/videos?'),
    );
    // Page 1: two newer renders; page 2: the target and an old one, where the scan stops.
    expect(lists).toHaveLength(2);
    expect(lists[1]?.url).toContain('after=');
  });

  it('refuses to answer null when the scan limit cuts the window short', async () => {
    const { client, create } = await scene();
    const provider = createOpenAIProvider({ client, listScanLimit: 3, listPageSize: 2 });
    const s = spec();
    const since = new Date(Date.now() - 1000);
    await create(s);
    for (let i = 0; i < 4; i++) await create(spec());

    const e = await providerError(provider.findExisting(s, { since }));
    expect(e).toMatchObject({ kind: 'permanent', code: 'existing_scan_incomplete' });

    const near = spec();
    const nearId = await create(near);
    // A match within the limit is still adopted.
    expect(await provider.findExisting(near, { since })).toEqual({ jobId: nearId });
  });
});
