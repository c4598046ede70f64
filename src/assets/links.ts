import type { SecretBox } from '../crypto/secrets.ts';

/**
 * Signed links to an asset's bytes, for video providers that fetch a first frame by URL
 * (Runway, fal). The route answers HEAD and GET with Content-Type and Content-Length and never
 * redirects, as Runway requires; the signature binds method family, path and expiry.
 */
const assetMediaPath = (id: string) => `/v1/media/assets/${id}`;

const signedText = (path: string, expires: number) => `GET ${path}\n${expires}`;

export function signAssetLink(
  box: SecretBox,
  p: { baseUrl: string; id: string; expiresAt: number },
): string {
  const path = assetMediaPath(p.id);
  const signature = box.sign(signedText(path, p.expiresAt));
  return `${p.baseUrl.replace(/\/$/, '')}${path}?expires=${p.expiresAt}&signature=${signature}`;
}

/** Checks the signature before the clock, so a changed expiry reads as tampering. */
export function verifyAssetLink(
  box: SecretBox,
  p: { id: string; expires: number; signature: string },
  nowSeconds = Math.floor(Date.now() / 1000),
): 'ok' | 'forged' | 'expired' {
  if (!box.verify(signedText(assetMediaPath(p.id), p.expires), p.signature)) return 'forged';
  return p.expires > nowSeconds ? 'ok' : 'expired';
}
