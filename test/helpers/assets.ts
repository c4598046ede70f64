import type { TestApp } from './app.ts';

/** A one-colour PNG made by ffmpeg, uploaded as the tenant's logo asset; returns its id. */
export async function uploadSolidLogo(t: TestApp, auth: string, color = 'red', side = 64) {
  const { stdout } = await t.infra.media.runner.ffmpeg(
    [
      ...['-f', 'lavfi', '-i', `color=c=${color}:s=${side}x${side}`, '-frames:v', '1'],
      ...['-f', 'image2pipe', '-vcodec', 'png', '-'],
    ],
    { captureStdout: true },
  );
  const form = new FormData();
  form.append('file', new Blob([stdout]), `${color}.png`);
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/assets',
    headers: { authorization: auth },
    payload: form,
  });
  return res.json().id as string;
}
