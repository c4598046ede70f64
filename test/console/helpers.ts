import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.ts';

type Res = Promise<LightMyRequestResponse>;

/** A signed-in console: the session cookie and the page's CSRF token, as a browser holds them. */
export interface ConsoleClient {
  cookie: string;
  csrf: string;
  get(url: string, headers?: Record<string, string>): Res;
  post(
    url: string,
    form: Record<string, string | string[]>,
    opts?: { csrf?: string | null; headers?: Record<string, string> },
  ): Res;
  upload(url: string, file: { name: string; body: Buffer | string }, csrf?: string): Res;
}

export function formBody(form: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(form))
    for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

export async function signIn(t: TestApp, bearer: string): Promise<ConsoleClient> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/console/sign-in',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: formBody({ api_key: bearer.slice(7) }),
  });
  if (res.statusCode !== 303) throw new Error(`sign-in answered ${res.statusCode}`);
  const setCookie = String(res.headers['set-cookie']);
  const cookie = setCookie.split(';')[0] as string;
  const home = await t.app.inject({ method: 'GET', url: '/console', headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1];
  if (!csrf) throw new Error('no CSRF token on the home page');
  const client: ConsoleClient = {
    cookie,
    csrf,
    get: (url, headers = {}) =>
      t.app.inject({ method: 'GET', url, headers: { cookie, ...headers } }),
    post: (url, form, opts = {}) =>
      t.app.inject({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...opts.headers },
        payload: formBody(opts.csrf === null ? form : { _csrf: opts.csrf ?? csrf, ...form }),
      }),
    upload(url, file, token = csrf) {
      const boundary = '----console-test';
      const body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n`,
        ),
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n`,
        ),
        Buffer.isBuffer(file.body) ? file.body : Buffer.from(file.body),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return t.app.inject({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: body,
      });
    },
  };
  return client;
}

/** A campaign made through the console's form; its id. */
export async function createCampaign(client: ConsoleClient): Promise<string> {
  const res = await client.post('/console/campaigns', campaignForm);
  if (res.statusCode !== 303) throw new Error(`create campaign answered ${res.statusCode}`);
  return String(res.headers.location).split('/').at(-1) as string;
}

/** A 64×64 PNG made by ffmpeg: a logo or a first-frame image. */
export async function testPng(t: TestApp): Promise<Buffer> {
  const args = ['-f', 'lavfi', '-i', 'color=c=red:s=64x64', '-frames:v', '1'];
  const out = await t.infra.media.runner.ffmpeg(
    [...args, '-f', 'image2pipe', '-vcodec', 'png', '-'],
    {
      captureStdout: true,
    },
  );
  return out.stdout;
}

export const campaignForm = {
  name: 'Spring <script>alert(1)</script> "drop"',
  product: 'Aurora sneakers',
  key_message: 'Light as air',
  prompt_template: 'A {{tone}} ad for {{brief.product}} in {{setting}}',
  video_model: 'local:card-v1',
  seconds: '4',
  size: '720x1280',
  logo_position: 'bottom-right',
  budget_usd: '50',
};

/** Level labels carrying markup and quotes: they must come back as text. */
export const matrixCsv = [
  'dimension,level,label,prompt',
  'tone,playful,"<script>alert(\'x\')</script>",playful',
  'tone,earnest,"Earnest ""honest""",earnest',
  'setting,beach,Beach,a beach',
  'setting,city,City,a city street',
].join('\n');
