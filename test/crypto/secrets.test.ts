import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secrets.ts';

describe('secret box', () => {
  const box = createSecretBox(randomBytes(32).toString('base64'));

  it('seals and opens, never showing the plaintext', () => {
    const sealed = box.seal('whsec_supersecret');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('supersecret');
    expect(box.open(sealed)).toBe('whsec_supersecret');
    expect(box.seal('whsec_supersecret')).not.toBe(sealed);
  });

  it('refuses a tampered ciphertext or another key', () => {
    const sealed = box.seal('x');
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
    expect(() => box.open(flipped)).toThrow();
    expect(() => createSecretBox(randomBytes(32).toString('base64')).open(sealed)).toThrow();
  });

  it('signs and verifies with a separate key', () => {
    const sig = box.sign('/v1/variants/x/video:123');
    expect(box.verify('/v1/variants/x/video:123', sig)).toBe(true);
    expect(box.verify('/v1/variants/x/video:124', sig)).toBe(false);
    expect(box.verify('/v1/variants/x/video:123', `${sig}x`)).toBe(false);
  });

  it('rejects a key of the wrong size', () => {
    expect(() => createSecretBox(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
