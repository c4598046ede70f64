import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export interface SignWebhookInput {
  /** The event/message id; receivers use it to de-duplicate, so it must be stable across retries. */
  id: string;
  timestamp: Date;
  /** The exact JSON text that will be sent: the signature covers these bytes. */
  body: string;
  /** Active secrets (`whsec_…`). Two during a rotation, so receivers on either secret verify. */
  secrets: readonly string[];
}

export type WebhookHeaders = Record<
  'webhook-id' | 'webhook-timestamp' | 'webhook-signature' | 'content-type' | 'user-agent',
  string
>;

export const WEBHOOK_USER_AGENT = 'admatrix-webhooks/1';

// Spaces and commas delimit the signature header and the signed content; keep ids to plain tokens.
const ID_PATTERN = /^[A-Za-z0-9._:~-]{1,255}$/;

export function signWebhook(input: SignWebhookInput): WebhookHeaders {
  if (!ID_PATTERN.test(input.id)) throw new TypeError('webhook id must be a plain token');
  const ms = input.timestamp.getTime();
  if (!Number.isFinite(ms)) throw new TypeError('webhook timestamp is not a valid date');
  if (input.secrets.length === 0) throw new TypeError('at least one webhook secret is required');
  const signatures = input.secrets.map((secret) =>
    new Webhook(secret).sign(input.id, input.timestamp, input.body),
  );
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(Math.floor(ms / 1000)),
    'webhook-signature': signatures.join(' '),
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
  };
}

/** A new endpoint secret in the Standard Webhooks format: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
