import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

export interface FalSigningKey {
  kid: string;
  privateKey: KeyObject;
  /** The JWKS entry: OKP / Ed25519, as fal publishes it. */
  jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string; use: 'sig'; alg: 'EdDSA' };
}

export function generateFalKey(): FalSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = `fake-${randomBytes(4).toString('hex')}`;
  const { x } = publicKey.export({ format: 'jwk' }) as { x: string };
  return { kid, privateKey, jwk: { kty: 'OKP', crv: 'Ed25519', x, kid, use: 'sig', alg: 'EdDSA' } };
}

/** fal's scheme: Ed25519 over `${request_id}\n${user_id}\n${timestamp}\n${sha256hex(body)}`, hex. */
export function signFalWebhook(
  key: FalSigningKey,
  requestId: string,
  userId: string,
  timestampSec: number,
  body: string,
): Record<string, string> {
  const digest = createHash('sha256').update(body, 'utf8').digest('hex');
  const msg = Buffer.from(`${requestId}\n${userId}\n${timestampSec}\n${digest}`, 'utf8');
  return {
    'content-type': 'application/json',
    'x-fal-webhook-request-id': requestId,
    'x-fal-webhook-user-id': userId,
    'x-fal-webhook-timestamp': String(timestampSec),
    'x-fal-webhook-signature': sign(null, msg, key.privateKey).toString('hex'),
  };
}

export interface SentFalWebhook {
  requestId: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Receiver's status, or null when the POST failed (see `error`). */
  status: number | null;
  error: string | null;
  /** 0 for the first attempt; retries and duplicates count up. */
  attempt: number;
}

/** One POST; the receiver's clock checks the timestamp, so it is the real time. */
export async function postFalWebhook(
  key: FalSigningKey,
  userId: string,
  url: string,
  requestId: string,
  body: string,
  attempt: number,
): Promise<SentFalWebhook> {
  const headers = signFalWebhook(key, requestId, userId, Math.floor(Date.now() / 1000), body);
  const sent: SentFalWebhook = {
    requestId,
    url,
    body,
    headers,
    status: null,
    error: null,
    attempt,
  };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(5000),
    });
    await res.arrayBuffer();
    sent.status = res.status;
  } catch (err) {
    sent.error = err instanceof Error ? err.message : String(err);
  }
  return sent;
}
