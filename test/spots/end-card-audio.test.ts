import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureFile } from '../../src/media/audio-bed.ts';
import { type FakeVideoServer, startFakeVideoServer } from '../fake-provider/index.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import { frameAt } from '../media/helpers.ts';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;
const assetIds: Record<string, string> = {};

const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: auth },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

async function uploadAsset(name: string, lavfi: string, extra: string[]) {
  const path = join(dir, name);
  await t.infra.media.runner.ffmpeg(['-f', 'lavfi', '-i', lavfi, ...extra, `file:${path}`]);
  const form = new FormData();
  form.append('file', new Blob([await readFile(path)]), name);
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/assets',
    headers: { authorization: auth },
    payload: form,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-endcard-'));
  fake = await startFakeVideoServer({ defaults: { queuedMs: 5, renderMs: 20 } });
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    ...openaiApiOnly,
  });
  workers = startTestWorkers(t, {
    OPENAI_API_KEY: 'test',
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_RPM: '100000',
    OPENAI_MAX_CONCURRENT: '50',
    RENDER_CONCURRENCY: '4',
    RENDER_POLL_INTERVAL_MS: '30',
    RENDER_DEADLINE_MS: '60000',
  });
  auth = await t.key('endcard-co');
  assetIds.logo = await uploadAsset('logo.png', 'color=c=yellow:s=200x100', ['-frames:v', '1']);
  // A loud 3 s bed: looped under a 9.5 s spot.
  assetIds.bed = await uploadAsset('bed.ogg', 'sine=f=220:d=3', ['-c:a', 'libvorbis']);
}, 60_000);
afterAll(async () => {
  await workers.close();
  await t.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

const shots = [
  { key: 'street', prompt_template: 'Street in {{city}}', seconds: 4 },
  { key: 'pack', prompt_template: 'Pack shot of {{brief.product}}', seconds: 4 },
];

const campaign = (spot: Record<string, unknown>) =>
  api('POST', '/v1/campaigns', {
    name: 'End card',
    brief: { product: 'Fizz', key_message: 'Cold' },
    prompt_template: 'Ad {{city}} {{partner}}',
    video: { provider: 'openai', seconds: 4, size: '720x1280' },
    overlay: { logo_position: 'top-left', text_template: 'Now in {{city}}\nTerms apply' },
    spot: { shots, transition: { type: 'fade', seconds: 0.5 }, ...spot },
  });

const matrixFor = (campaignId: string) =>
  api('POST', `/v1/campaigns/${campaignId}/matrices`, {
    dimensions: [
      { key: 'city', levels: [{ key: 'oslo', label: 'Oslo' }, { key: 'rome' }] },
      { key: 'partner', levels: [{ key: 'acme', label: 'ACME', asset_id: assetIds.logo }] },
    ],
  });

async function download(key: string, name: string): Promise<string> {
  const path = join(dir, name);
  await pipeline(await t.infra.storage.open(key), createWriteStream(path));
  return path;
}

describe('a spot with an end card and an audio bed', () => {
  it('lasts shots − fade + card, ends on the card, carries a −14 LUFS bed, and costs only its shots', {
    timeout: 180_000,
  }, async () => {
    const created = await campaign({
      end_card: {
        seconds: 2,
        text_template: 'Visit {{partner}} in {{city}}',
        logo: true,
        background: '#1030c0',
      },
      audio: { asset_id: assetIds.bed, gain_db: 3 },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().spot).toMatchObject({
      end_card: { seconds: 2, logo: true, background: '#1030c0' },
      audio: { asset_id: assetIds.bed, gain_db: 3 },
    });
    const matrix = await matrixFor(created.json().id);
    expect(matrix.statusCode, matrix.body).toBe(201);
    // The card is drawn locally: the quote prices the 3 unique shots and nothing more.
    const quote = await api('POST', `/v1/matrices/${matrix.json().id}/preview`, {
      design: { type: 'full' },
    });
    expect(quote.statusCode, quote.body).toBe(200);
    expect(quote.json().shots).toEqual({ unique: 3, render_seconds: 12, naive_render_seconds: 16 });
    expect(quote.json().estimated_cost_usd).toBeCloseTo(3 * quote.json().unit_cost_usd, 6);

    const run = await startRun(t, auth, {
      campaignId: created.json().id,
      matrixId: matrix.json().id,
      key: 'endcard-1',
    });
    const done = await waitForRun(t, auth, run.id, 'completed', 150_000);
    expect(done.counts.ready).toBe(2);
    expect(fake.createCalls).toHaveLength(3);
    expect(done.cost.actual_usd).toBeCloseTo(done.cost.estimated_usd, 6);

    for (const v of await variantsOf(t, run.id)) {
      // 4 + 4 − 0.5 + 2, within a frame at 30 fps.
      expect(Math.abs(Number(v.duration_s) - 9.5)).toBeLessThanOrEqual(1 / 30);
      const { video_key, seconds } = v as unknown as { video_key: string; seconds: number };
      // The variant's nominal length counts the card too (9.5 s, rounded).
      expect(seconds).toBe(10);
      const file = await download(video_key, `${v.id}.mp4`);
      const facts = await t.infra.media.probe(file);
      expect(facts).toMatchObject({ width: 720, height: 1280, audio_codec: 'aac' });
      const loud = await measureFile(t.infra.media.runner.ffmpeg, file);
      expect(Math.abs(loud.input_i + 14)).toBeLessThanOrEqual(1);
      expect(loud.input_tp).toBeLessThanOrEqual(-1);

      const last = await frameAt(t.infra.media, file, 7);
      const card = await frameAt(t.infra.media, file, 8.8);
      // The card: its blue background where the overlay's corner logo sits on the shots,
      // and the partner's yellow logo in the middle of its upper third.
      // The overlay's yellow corner logo (top-left) is on the last shot, not on the card.
      const [sr, sg, sb] = last.pixel(90, 60);
      expect(Math.min(sr, sg)).toBeGreaterThan(200);
      expect(sb).toBeLessThan(80);
      const [br, bg, bb] = card.pixel(90, 60);
      expect(bb).toBeGreaterThan(150);
      expect(br + bg).toBeLessThan(150);
      const [lr, lg, lb] = card.pixel(360, Math.round(1280 * 0.32));
      expect(Math.min(lr, lg)).toBeGreaterThan(200);
      expect(lb).toBeLessThan(80);
      let differ = 0;
      let sampled = 0;
      for (let y = 0; y < 1280; y += 16)
        for (let x = 0; x < 720; x += 16) {
          const p = card.pixel(x, y);
          const q = last.pixel(x, y);
          sampled++;
          if (Math.abs(p[0] - q[0]) + Math.abs(p[1] - q[1]) + Math.abs(p[2] - q[2]) > 60) differ++;
        }
      expect(differ).toBeGreaterThan(sampled * 0.5);
    }
  });

  it('names the field of a card or bed that is not valid', async () => {
    const bad = await campaign({
      end_card: { seconds: 0, text_template: 'x', logo: false },
      audio: { asset_id: assetIds.logo },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual([
      'spot.end_card.seconds',
    ]);
    const notAudio = await campaign({ audio: { asset_id: assetIds.logo } });
    expect(notAudio.statusCode).toBe(422);
    expect(notAudio.headers['content-type']).toContain('application/problem+json');
    expect(notAudio.json().errors).toEqual([
      { path: 'spot.audio.asset_id', message: `unknown audio asset ${assetIds.logo}` },
    ]);
    const badColour = await campaign({
      end_card: { seconds: 2, text_template: 'x', logo: false, background: 'blue' },
    });
    expect(badColour.json().errors[0].path).toBe('spot.end_card.background');

    // Placeholders are the matrix's to check, as the shots' are.
    const unknown = await campaign({
      end_card: { seconds: 2, text_template: 'Visit {{store}}', logo: false },
    });
    expect(unknown.statusCode).toBe(201);
    const matrix = await matrixFor(unknown.json().id);
    expect(matrix.statusCode).toBe(422);
    expect(matrix.json().errors[0].path).toBe('spot.end_card.text_template');
    expect(matrix.json().errors[0].message).toMatch(/store/);
  });
});
