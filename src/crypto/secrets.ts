import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * A published key for development only: without SECRETS_KEY nothing is secret, and the
 * config refuses to start in production without one.
 */
const developmentSecretsKey = 'YWRtYXRyaXgtZGV2ZWxvcG1lbnQta2V5LW5vdC1zZWM=';

export interface SecretBox {
  /** AES-256-GCM; the output carries its version, nonce and tag. */
  seal(plaintext: string): string;
  open(sealed: string): string;
  /** HMAC-SHA256 (base64url) under a key separate from the encryption key. */
  sign(message: string): string;
  verify(message: string, signature: string): boolean;
  readonly isDevelopmentKey: boolean;
}

export function createSecretBox(keyBase64: string | undefined): SecretBox {
  const master = Buffer.from(keyBase64 ?? developmentSecretsKey, 'base64');
  if (master.length !== 32) throw new Error('SECRETS_KEY must be 32 bytes, base64');
  // One key per purpose, so a signature can never be confused with a ciphertext.
  const derive = (info: string) =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  const encKey = derive('admatrix/seal/v1');
  const macKey = derive('admatrix/sign/v1');
  return {
    isDevelopmentKey: keyBase64 === undefined,
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    open(sealed) {
      if (!sealed.startsWith('v1.')) throw new Error('unknown secret format');
      const raw = Buffer.from(sealed.slice(3), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
    sign(message) {
      return createHmac('sha256', macKey).update(message).digest('base64url');
    },
    verify(message, signature) {
      const expected = Buffer.from(
        createHmac('sha256', macKey).update(message).digest('base64url'),
      );
      const given = Buffer.from(signature);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
