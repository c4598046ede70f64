import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let auth: string;
let dir: string;
const files: Record<string, Buffer> = {};

const maxBytes = 400 * 1024;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-audio-'));
  t = await createTestApp({
    UPLOAD_LIMIT_BYTES: String(200 * 1024),
    ASSET_AUDIO_MAX_BYTES: String(maxBytes),
    ASSET_AUDIO_MAX_SECONDS: '30',
    STORAGE_DIR: join(dir, 'storage'),
  });
  auth = await t.key('audio-co');
  const make = async (name: string, source: string, extra: string[]) => {
    const out = join(dir, name);
    await t.infra.media.runner.ffmpeg(['-f', 'lavfi', '-i', source, ...extra, `file:${out}`]);
    files[name] = await readFile(out);
  };
  const tone = 'sine=f=330:d=4';
  await Promise.all([
    make('bed.mp3', tone, ['-c:a', 'libmp3lame', '-b:a', '64k']),
    make('bed.wav', tone, ['-c:a', 'pcm_s16le']),
    make('bed.ogg', tone, ['-c:a', 'libvorbis']),
    make('bed.aac', tone, ['-c:a', 'aac', '-f', 'adts']),
    make('bed.m4a', tone, ['-c:a', 'aac', '-f', 'mp4']),
    make('long.mp3', 'sine=f=330:d=40', ['-c:a', 'libmp3lame', '-b:a', '32k']),
    // 10 s of 48 kHz stereo PCM: about 1.9 MB, over the 400 KB limit.
    make('big.wav', 'sine=f=330:d=10:sample_rate=48000', ['-ac', '2', '-c:a', 'pcm_s16le']),
    make('video.mp4', 'testsrc=s=64x64:d=1', ['-c:v', 'libx264', '-f', 'mp4']),
  ]);
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

function upload(bytes: Buffer, filename: string) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), filename);
  return t.app.inject({
    method: 'POST',
    url: '/v1/assets',
    headers: { authorization: auth },
    payload: form,
  });
}

const count = async () =>
  Number((await t.testDb.pool.query('SELECT count(*) FROM assets')).rows[0].count);

describe('audio assets', () => {
  it.each([
    ['bed.mp3', 'audio/mpeg'],
    ['bed.wav', 'audio/wav'],
    ['bed.ogg', 'audio/ogg'],
    ['bed.aac', 'audio/aac'],
    ['bed.m4a', 'audio/mp4'],
  ])('stores %s as an audio asset of type %s with its duration', async (name, type) => {
    const res = await upload(files[name]!, `upload-${name}`);
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ kind: 'audio', content_type: type, width: null, height: null });
    expect(Math.abs(body.duration_s - 4)).toBeLessThan(0.1);
  });

  it('refuses a file over ASSET_AUDIO_MAX_BYTES with 422 naming the size, keeping nothing', async () => {
    const before = await count();
    const res = await upload(files['big.wav']!, 'big.wav');
    expect(res.statusCode, res.body).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain('ASSET_AUDIO_MAX_BYTES');
    expect(res.json().errors[0]).toMatchObject({ path: 'file' });
    expect(res.json().errors[0].message).toMatch(/^too large: (more than )?\d+ bytes$/);
    expect(await count()).toBe(before);
  });

  it('refuses audio over ASSET_AUDIO_MAX_SECONDS with 422 naming the length', async () => {
    const res = await upload(files['long.mp3']!, 'long.mp3');
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain('ASSET_AUDIO_MAX_SECONDS');
    expect(res.json().errors[0].message).toMatch(/^too long: 40\.\d\d s$/);
  });

  it('refuses truncated audio, a video in an M4A guise and garbage behind an audio header', async () => {
    const wav = files['bed.wav']!;
    // A RIFF/WAVE header whose data is not PCM frames: ffprobe or the decode refuses it.
    const broken = Buffer.concat([wav.subarray(0, 12), Buffer.alloc(4000, 0x41)]);
    const res = await upload(broken, 'broken.wav');
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([{ path: 'file', message: 'cannot be decoded' }]);
    const video = await upload(files['video.mp4']!, 'clip.m4a');
    expect(video.statusCode).toBe(422);
    expect(video.json().errors).toEqual([{ path: 'file', message: 'has video' }]);
  });

  it('an audio asset is no logo: a matrix level naming it is refused', async () => {
    const audio = (await upload(files['bed.mp3']!, 'again.mp3')).json();
    const campaign = await t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: auth },
      payload: {
        name: 'audio',
        prompt_template: 'A {{partner}} ad',
        brief: { product: 'Fizz', key_message: 'Cold' },
        video: { provider: 'local', seconds: 4, size: '720x1280' },
      },
    });
    expect(campaign.statusCode, campaign.body).toBe(201);
    const matrix = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaign.json().id}/matrices`,
      headers: { authorization: auth },
      payload: {
        dimensions: [{ key: 'partner', levels: [{ key: 'acme', asset_id: audio.id }] }],
      },
    });
    expect(matrix.statusCode).toBe(422);
    expect(JSON.stringify(matrix.json().errors)).toContain(audio.id);
  });
});
