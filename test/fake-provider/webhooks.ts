import { createHmac, randomBytes } from 'node:crypto';
import type { SentWebhook } from './types.ts';

/** Mirrors the SDK's verifier: `whsec_` secrets are base64 keys, anything else is UTF-8 bytes. */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`. */
export function signWebhook(
  secret: string,
  id: string,
  timestampSec: number,
  body: string,
): string {
  const mac = createHmac('sha256', webhookKey(secret))
    .update(`${id}.${timestampSec}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

export interface VideoEvent {
  id: string;
  object: 'event';
  created_at: number;
  type: 'video.completed' | 'video.failed';
  data: { id: string };
}

export function buildEvent(
  type: VideoEvent['type'],
  videoId: string,
  createdAtSec: number,
): VideoEvent {
  return {
    id: `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    created_at: createdAtSec,
    type,
    data: { id: videoId },
  };
}

/**
 * Signs with the real time, not the fake clock: receivers check the timestamp against their
 * own clock (5 min tolerance), so a manual clock would make every delivery look stale.
 */
export async function postWebhook(
  url: string,
  secret: string,
  eventId: string,
  type: VideoEvent['type'],
  videoId: string,
  body: string,
): Promise<SentWebhook> {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/json',
    'webhook-id': eventId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, eventId, timestamp, body),
  };
  const sent: SentWebhook = { eventId, type, videoId, body, headers, status: null, error: null };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(5000),
    });
    // Drain so the keep-alive socket is released.
    await res.arrayBuffer();
    sent.status = res.status;
  } catch (err) {
    sent.error = err instanceof Error ? err.message : String(err);
  }
  return sent;
}
