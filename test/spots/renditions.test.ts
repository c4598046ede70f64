import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeVideoServer } from '../fake-provider/index.ts';
import { campaignBody, type TestApp, waitFor } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { type SpotStack, startSpotStack } from './stack.ts';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let dir: string;
let stack: SpotStack;

beforeAll(async () => {
  stack = await startSpotStack('renditions-co', 4);
  ({ t, fake, auth, dir } = stack);
});
afterAll(() => stack.close());
beforeEach(() => fake.reset());

const get = (url: string, headers: Record<string, string> = {}, key = auth) =>
  t.app.inject({ method: 'GET', url, headers: { authorization: key, ...headers } });

async function probeBytes(bytes: Buffer, name: string) {
  const file = join(dir, name);
  await writeFile(file, bytes);
  return t.infra.media.probe(file);
}

describe('format renditions', () => {
  it('stores one file per format, fitted from the campaign size, each with its own facts', {
    timeout: 120_000,
  }, async () => {
    const s = await setupCampaign(t, auth, {
      levels: { city: ['oslo', 'rome'] },
      overlay: { logo_position: 'top-right', text_template: 'Now in {{city}}' },
      spot: {
        shots: [
          { key: 'open', prompt_template: 'Opening for {{brief.product}}', seconds: 4 },
          { key: 'street', prompt_template: 'Street in {{city}}', seconds: 4 },
        ],
        transition: { type: 'cut', seconds: 0 },
        formats: ['16:9', '1:1', '9:16'],
      },
    });
    const campaign = (await get(`/v1/campaigns/${s.campaignId}`)).json();
    expect(campaign.spot.formats).toEqual(['16:9', '1:1', '9:16']);
    const run = await startRun(t, auth, { ...s, key: 'renditions-1' });
    const done = await waitForRun(t, auth, run.id, 'completed', 90_000);
    expect(done.counts.ready).toBe(2);
    const [v] = await variantsOf(t, run.id);
    const variant = (await get(`/v1/variants/${v!.id}`)).json();
    // Listed in format order; 9:16 is the campaign's own frame, so the main video itself.
    expect(
      variant.renditions.map((r: { format: string; width: number; height: number }) => [
        r.format,
        r.width,
        r.height,
      ]),
    ).toEqual([
      ['9:16', 720, 1280],
      ['1:1', 720, 720],
      ['16:9', 1280, 720],
    ]);
    expect(variant.renditions[0].sha256).toBe(variant.video.sha256);
    for (const r of variant.renditions) {
      const res = await get(r.url.replace(/^https?:\/\/[^/]+/, ''));
      expect(res.statusCode, r.format).toBe(200);
      expect(res.headers['content-type']).toBe('video/mp4');
      expect(res.rawPayload.length).toBe(r.bytes);
      const facts = await probeBytes(res.rawPayload, `${r.format.replace(':', 'x')}.mp4`);
      expect([facts.width, facts.height]).toEqual([r.width, r.height]);
      expect(Math.abs(facts.duration_s - 8)).toBeLessThanOrEqual(1 / 30);
      expect(Math.abs(r.duration_seconds - 8)).toBeLessThanOrEqual(1 / 30);
    }
    const wide = variant.renditions[2];
    const path = `/v1/variants/${v!.id}/renditions/16:9`;
    const part = await get(path, { range: 'bytes=0-99' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${wide.bytes}`);
    // Another tenant's variant, and a format not asked for, are absent.
    const other = await t.key('renditions-other-co');
    expect((await get(path, {}, other)).statusCode).toBe(404);
    expect((await get(`/v1/variants/${v!.id}`, {}, other)).statusCode).toBe(404);
    expect((await get(`/v1/variants/${v!.id}/renditions/4:3`)).statusCode).toBe(400);

    // A composite re-run (a crash after one rendition was stored): the same bytes, no duplicate.
    const renditionRows = async () =>
      (
        await t.testDb.pool.query(
          'SELECT format, sha256 FROM variant_renditions WHERE variant_id = $1 ORDER BY format',
          [v!.id],
        )
      ).rows;
    // Signing puts a fresh manifest (its own instance id and signature) in each file, so a
    // re-run's file differs in that box only: compare the encoded video stream, bit for bit.
    const streamMd5 = async (format: string) => {
      const res = await get(`/v1/variants/${v!.id}/renditions/${format}`);
      const file = join(dir, `stream-${format.replace(':', 'x')}.mp4`);
      await writeFile(file, res.rawPayload);
      const out = await t.infra.media.runner.ffmpeg(
        ['-i', `file:${file}`, '-map', '0:v', '-c', 'copy', '-f', 'md5', '-'],
        { captureStdout: true, maxStdoutBytes: 1024 },
      );
      return out.stdout.toString().trim();
    };
    const squareStream = await streamMd5('1:1');
    // Each rendition is signed like the main video: its credentials validate.
    const form = new FormData();
    const square = await get(`/v1/variants/${v!.id}/renditions/1:1`);
    form.append('file', new Blob([square.rawPayload]), 'square.mp4');
    const verified = await t.app.inject({
      method: 'POST',
      url: '/v1/provenance/verify',
      headers: { authorization: auth },
      payload: form,
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json().state).toBe('valid');
    const before = await renditionRows();
    await t.testDb.pool.query(
      `DELETE FROM variant_renditions WHERE variant_id = $1 AND format = '1:1'`,
      [v!.id],
    );
    await t.testDb.pool.query(`UPDATE variants SET status = 'compositing' WHERE id = $1`, [v!.id]);
    const queue = t.infra.queues.get('render-openai');
    await queue.remove(v!.id);
    await queue.add('render-openai', { variantId: v!.id }, { jobId: v!.id });
    await waitFor(
      async () => {
        const { rows } = await t.testDb.pool.query('SELECT status FROM variants WHERE id = $1', [
          v!.id,
        ]);
        return rows[0].status === 'ready' ? true : undefined;
      },
      { timeoutMs: 90_000, what: 'the re-run composite to finish' },
    );
    const after = await renditionRows();
    const unchanged = (rows: { format: string }[]) => rows.filter((r) => r.format !== '1:1');
    expect(unchanged(after)).toEqual(unchanged(before));
    expect(after.map((r: { format: string }) => r.format)).toEqual(before.map((r) => r.format));
    expect(await streamMd5('1:1')).toBe(squareStream);
  });

  it('refuses a format listed twice or unknown, naming it', async () => {
    const shots = [{ key: 'a', prompt_template: 'x', seconds: 4 }];
    const video = { ...campaignBody.video, provider: 'openai' };
    const post = (formats: unknown) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/campaigns',
        headers: { authorization: auth },
        payload: { ...campaignBody, video, spot: { shots, formats } },
      });
    const twice = await post(['1:1', '1:1']);
    expect(twice.statusCode).toBe(422);
    expect(twice.json().errors[0].path).toBe('spot.formats[1]');
    const unknown = await post(['4:3']);
    expect([400, 422]).toContain(unknown.statusCode);
    expect(unknown.json().errors[0].path).toBe('spot.formats.0');
  });
});
