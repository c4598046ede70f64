import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createWebhookSender,
  generateWebhookSecret,
  signWebhook,
} from '../../../src/webhooks/sender/index.ts';
import { type Receiver, startReceiver } from './receiver.ts';

const body = JSON.stringify({ type: 'variant.ready', data: { id: 'var_01', note: 'café ☕' } });

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());
beforeEach(() => receiver.reset());

const sender = createWebhookSender({ allowHosts: ['127.0.0.1'], allowHttp: ['127.0.0.1'] });

/** Makes the receiver answer 204 only if the delivery verifies with each of `secrets` on its own. */
function verifyingWith(secrets: string[]) {
  const verdicts: string[] = [];
  receiver.handle((req, res) => {
    for (const secret of secrets) {
      try {
        new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
        verdicts.push('ok');
      } catch (err) {
        verdicts.push((err as Error).message);
      }
    }
    res.writeHead(verdicts.every((v) => v === 'ok') ? 204 : 400).end();
  });
  return verdicts;
}

describe('signWebhook', () => {
  it('produces the Standard Webhooks headers', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook({
      id: 'evt_01j',
      timestamp: new Date(1_700_000_000_999),
      body,
      secrets: [secret],
    });
    expect(headers).toEqual({
      'webhook-id': 'evt_01j',
      'webhook-timestamp': '1700000000',
      'webhook-signature': new Webhook(secret).sign('evt_01j', new Date(1_700_000_000_000), body),
      'content-type': 'application/json',
      'user-agent': 'admatrix-webhooks/1',
    });
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('is verified by a receiver holding the one secret', async () => {
    const secret = generateWebhookSecret();
    const verdicts = verifyingWith([secret]);
    const headers = signWebhook({ id: 'evt_1', timestamp: new Date(), body, secrets: [secret] });
    const result = await sender.send({ url: receiver.url(), headers, body });
    expect(verdicts).toEqual(['ok']);
    expect(result).toMatchObject({ outcome: 'delivered', status: 204 });
    expect(receiver.requests[0]?.body).toBe(body);
  });

  it('during a rotation, verifies with the old secret and with the new one', async () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const verdicts = verifyingWith([oldSecret, newSecret]);
    const headers = signWebhook({
      id: 'evt_2',
      timestamp: new Date(),
      body,
      secrets: [oldSecret, newSecret],
    });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    const result = await sender.send({ url: receiver.url(), headers, body });
    expect(verdicts).toEqual(['ok', 'ok']);
    expect(result.outcome).toBe('delivered');
  });

  it('does not verify with a secret it was not signed with, nor with a changed body', async () => {
    const secret = generateWebhookSecret();
    const verdicts = verifyingWith([generateWebhookSecret()]);
    const headers = signWebhook({ id: 'evt_3', timestamp: new Date(), body, secrets: [secret] });
    const result = await sender.send({ url: receiver.url(), headers, body });
    expect(verdicts).toEqual(['No matching signature found']);
    expect(result).toMatchObject({ outcome: 'failed', status: 400 });

    const tampered = body.replace('var_01', 'var_02');
    expect(() => new Webhook(secret).verify(tampered, headers)).toThrow(/No matching signature/);
  });

  it('rejects input that cannot make a valid signature header', () => {
    const base = { id: 'evt_4', timestamp: new Date(), body };
    expect(() => signWebhook({ ...base, secrets: [] })).toThrow(/at least one/);
    expect(() => signWebhook({ ...base, id: 'evt 4', secrets: [generateWebhookSecret()] })).toThrow(
      /plain token/,
    );
    expect(() =>
      signWebhook({ ...base, timestamp: new Date(Number.NaN), secrets: [generateWebhookSecret()] }),
    ).toThrow(/valid date/);
  });
});

describe('generateWebhookSecret', () => {
  it('returns whsec_ and base64 of 32 random bytes, different every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, generateWebhookSecret));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    }
  });
});
