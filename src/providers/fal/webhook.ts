import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { WebhookEvent } from '../types.ts';

/** fal's headers, lower-cased as Node hands them over. */
const H = {
  requestId: 'x-fal-webhook-request-id',
  userId: 'x-fal-webhook-user-id',
  timestamp: 'x-fal-webhook-timestamp',
  signature: 'x-fal-webhook-signature',
} as const;

/** Set by our route from the webhook URL's path: the `owner/app` the request ran on. */
export const FAL_APP_HEADER = 'x-amx-fal-app';

interface FalWebhookVerifierOptions {
  jwksUrl: string;
  fetch?: typeof fetch | undefined;
  /** Seconds; default 300, fal's own tolerance. */
  toleranceSec?: number | undefined;
  /** How long fetched keys are trusted; default (and at most) 24 h. */
  cacheMs?: number | undefined;
  /**
   * A signature no cached key verifies refetches the keys (fal may have rotated), but no more
   * often than this, so forged deliveries cannot make us hammer the JWKS. Default 60 s.
   */
  refetchAfterMs?: number | undefined;
  now?: (() => number) | undefined;
}

interface Jwk {
  kty?: string;
  crv?: string;
  x?: string;
}

/**
 * Ed25519 over `${request_id}\n${user_id}\n${timestamp}\n${sha256hex(body)}` against every key of
 * fal's JWKS (the headers name no key). Returns the event with `request_id` as the id to
 * deduplicate on, or null when anything is missing, stale or does not verify.
 */
export function createFalWebhookVerifier(opts: FalWebhookVerifierOptions) {
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const toleranceSec = opts.toleranceSec ?? 300;
  const cacheMs = Math.min(opts.cacheMs ?? 86_400_000, 86_400_000);
  const refetchAfterMs = opts.refetchAfterMs ?? 60_000;
  let keys: KeyObject[] = [];
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | null = null;

  async function load(): Promise<void> {
    const res = await doFetch(opts.jwksUrl, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`JWKS ${opts.jwksUrl} answered ${res.status}`);
    const body = (await res.json()) as { keys?: Jwk[] };
    const next: KeyObject[] = [];
    for (const jwk of body.keys ?? []) {
      if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') continue;
      try {
        next.push(
          createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }),
        );
      } catch {
        // One malformed key must not take the others down with it.
      }
    }
    keys = next;
    fetchedAt = now();
  }

  async function refresh(): Promise<void> {
    inflight ??= load().finally(() => {
      inflight = null;
    });
    await inflight;
  }

  const verifiedBy = (msg: Buffer, sig: Buffer) => keys.some((k) => verify(null, msg, k, sig));

  return async function verifyFalWebhook(
    rawBody: string,
    headers: Record<string, string>,
  ): Promise<(WebhookEvent & { deliveryId: string }) | null> {
    const requestId = headers[H.requestId];
    const userId = headers[H.userId];
    const timestamp = headers[H.timestamp];
    const signature = headers[H.signature];
    if (!requestId || !userId || !timestamp || !signature) return null;
    if (!/^\d{1,12}$/.test(timestamp) || !/^[0-9a-f]{128}$/i.test(signature)) return null;
    if (Math.abs(now() / 1000 - Number(timestamp)) > toleranceSec) return null;

    const digest = createHash('sha256').update(rawBody, 'utf8').digest('hex');
    const msg = Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${digest}`, 'utf8');
    const sig = Buffer.from(signature, 'hex');
    try {
      if (now() - fetchedAt > cacheMs) await refresh();
      if (!verifiedBy(msg, sig)) {
        if (now() - fetchedAt < refetchAfterMs) return null;
        await refresh();
        if (!verifiedBy(msg, sig)) return null;
      }
    } catch {
      // No keys to check against: refuse, and fal retries the delivery later.
      return null;
    }

    let body: { request_id?: unknown; status?: unknown };
    try {
      body = JSON.parse(rawBody) as typeof body;
    } catch {
      return null;
    }
    // The signature covers the header's id; a body naming another request is not this one.
    if (body.request_id !== undefined && body.request_id !== requestId) return null;
    const app = headers[FAL_APP_HEADER];
    if (body.status !== 'OK' && body.status !== 'ERROR') {
      return { event: 'other', type: `fal.${String(body.status)}`, deliveryId: requestId };
    }
    return {
      // Without the app the id matches no variant: acknowledged, and the poll picks it up.
      jobId: app ? falJobId(app, requestId) : requestId,
      event: body.status === 'OK' ? 'completed' : 'failed',
      deliveryId: requestId,
    };
  };
}

/** Our job id: status, result and cancel need the app as well as fal's request id. */
export function falJobId(app: string, requestId: string): string {
  return `${app}|${requestId}`;
}

export function parseFalJobId(jobId: string): { app: string; requestId: string } | null {
  const m = /^([^/|\s]+\/[^/|\s]+)\|([A-Za-z0-9._-]+)$/.exec(jobId);
  return m ? { app: m[1]!, requestId: m[2]! } : null;
}
