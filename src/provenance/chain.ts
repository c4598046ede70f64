import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { algorithmOf } from './cose.ts';

/** What is wrong with a signing chain, and which setting holds it; never the value itself. */
export class SigningChainError extends Error {
  readonly setting: 'C2PA_SIGN_CERT' | 'C2PA_SIGN_KEY';
  constructor(setting: SigningChainError['setting'], message: string) {
    super(`${setting} ${message}`);
    this.setting = setting;
  }
}

/**
 * The chain as the signer needs it: DER certificates leaf first, the leaf's key, its COSE
 * algorithm. Checked where it is configured (config.ts), so a bad chain stops the process at
 * start rather than failing every render. Parser messages can quote their input: only the
 * setting's name is reported.
 */
export function parseSigningChain(chain: { certPem: string; keyPem: string }) {
  const blocks =
    chain.certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new SigningChainError('C2PA_SIGN_CERT', 'holds no PEM certificate');
  let certs: X509Certificate[];
  try {
    certs = blocks.map((b) => new X509Certificate(b));
  } catch {
    throw new SigningChainError('C2PA_SIGN_CERT', 'holds a certificate that does not parse');
  }
  const leaf = certs[0]!;
  if (leaf.checkIssued(leaf) && leaf.verify(leaf.publicKey)) {
    throw new SigningChainError(
      'C2PA_SIGN_CERT',
      'is a self-signed certificate, which C2PA refuses: sign the leaf with a CA and list both',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(chain.keyPem);
  } catch {
    throw new SigningChainError('C2PA_SIGN_KEY', 'is not a PEM private key');
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new SigningChainError(
      'C2PA_SIGN_KEY',
      'does not match the first certificate of C2PA_SIGN_CERT',
    );
  }
  let alg: ReturnType<typeof algorithmOf>;
  try {
    alg = algorithmOf(key);
  } catch {
    throw new SigningChainError(
      'C2PA_SIGN_KEY',
      'must be an ECDSA P-256 (ES256) or Ed25519 private key',
    );
  }
  return {
    certsDer: certs.map((c) => new Uint8Array(c.raw)),
    key,
    alg,
    subject: leaf.subject.replaceAll('\n', ', '),
  };
}
