import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import OpenAI, { type ClientOptions } from 'openai';
import { afterEach } from 'vitest';
import type { RenderImage, RenderSpec } from '../../src/providers/types.ts';
import { ProviderError } from '../../src/providers/types.ts';
import {
  type FakeVideoServer,
  type FakeVideoServerOptions,
  startFakeVideoServer,
} from '../fake-provider/index.ts';

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

/**
 * The SDK's own retry default (2) is left on unless a test says otherwise, so a test that sees
 * one create call proves the provider turned retries off for create.
 */
export async function fakeWith(
  opts: FakeVideoServerOptions = {},
  client: Partial<ClientOptions> = {},
): Promise<{ fake: FakeVideoServer; client: OpenAI }> {
  const fake = await startFakeVideoServer(opts);
  onCleanup(() => fake.close());
  return { fake, client: new OpenAI({ apiKey: 'test', baseURL: fake.baseURL, ...client }) };
}

/** A 1x1 PNG. */
export const ONE_PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/** A first frame as the pipeline hands it over: the bytes, and a signed URL when public. */
export function firstFrame(
  opts: { bytes?: Buffer; contentType?: string; url?: string } = {},
): RenderImage {
  const bytes = opts.bytes ?? ONE_PIXEL_PNG;
  return {
    bytes,
    contentType: opts.contentType ?? 'image/png',
    width: 1,
    height: 1,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ...(opts.url ? { url: opts.url } : {}),
  };
}

let seq = 0;
export function spec(overrides: Partial<RenderSpec> = {}): RenderSpec {
  seq++;
  return {
    variantId: `var_test${seq}`,
    prompt: `prompt ${seq}`,
    model: 'sora-2',
    seconds: 4,
    size: '1280x720',
    ...overrides,
  };
}

/** Resolves with the ProviderError a promise rejects with; fails the test on anything else. */
export async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ProviderError) return err;
    throw new Error(`expected a ProviderError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection, got a result');
}

export async function collect(stream: Readable): Promise<{ bytes: Buffer; chunks: number[] }> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return { bytes: Buffer.concat(parts), chunks: parts.map((p) => p.length) };
}

export function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export interface Received {
  body: string;
  headers: Record<string, string>;
}

/** A webhook receiver that keeps the raw body, as a real route must for signature checks. */
export async function startReceiver(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      received.push({
        body: Buffer.concat(parts).toString('utf8'),
        headers: flatHeaders(req.headers),
      });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, received };
}

export interface Canned {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/**
 * A gateway that answers what the test says, for responses the fake does not produce
 * (HTTP-date Retry-After, 408 and 503 on reads, listings without prompts).
 */
export async function startCannedServer(
  answer: (method: string, url: string) => Canned,
): Promise<{ baseURL: string; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      calls.push(`${req.method} ${url}`);
      const a = answer(req.method ?? 'GET', url);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { baseURL: `http://127.0.0.1:${port}/v1`, calls };
}
