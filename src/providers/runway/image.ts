import { isIP } from 'node:net';
import { ProviderError } from '../types.ts';

/** Runway takes a data URI up to 5 MB (the URI as sent) and a URL's image up to 16 MB. */
export const RUNWAY_DATA_URI_MAX_CHARS = 5 * 1024 * 1024;
export const RUNWAY_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;

/**
 * The largest image that fits a data URI of Runway's 5 MB, for any of the types it takes:
 * base64 turns 3 bytes into 4 characters, after the `data:image/webp;base64,` prefix.
 */
export const RUNWAY_INLINE_IMAGE_MAX_BYTES =
  Math.floor((RUNWAY_DATA_URI_MAX_CHARS - 'data:image/webp;base64,'.length) / 4) * 3;

/** Runway fetches only HTTPS URLs on a domain name (no IP address). */
export function runwayCanFetch(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return u.protocol === 'https:' && isIP(host) === 0 && host.includes('.');
}

/**
 * The first frame in the form Runway takes: our signed URL when Runway can fetch it (that route
 * must answer HEAD with Content-Type and Content-Length and never redirect), else the bytes as a
 * data URI. Throws a permanent ProviderError when neither fits, before anything is paid.
 */
export function runwayImageInput(image: {
  url?: string | undefined;
  bytes: Uint8Array;
  contentType: string;
}): { url: string } | { dataUri: string } {
  const type = image.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!(RUNWAY_IMAGE_TYPES as readonly string[]).includes(type)) {
    throw new ProviderError(`runway takes JPEG, PNG or WebP first frames, not ${type || 'this'}`, {
      kind: 'permanent',
      code: 'image_unsupported',
    });
  }
  if (image.url !== undefined && runwayCanFetch(image.url)) return { url: image.url };
  const prefix = `data:${type};base64,`;
  // Measured before encoding: base64 makes 4 characters of every 3 bytes (the last padded).
  const length = prefix.length + Math.ceil(image.bytes.length / 3) * 4;
  if (length > RUNWAY_DATA_URI_MAX_CHARS) {
    throw new ProviderError(
      `the first frame is ${length} characters as a data URI, over Runway's 5 MB; serve it from a public HTTPS PUBLIC_URL instead`,
      { kind: 'permanent', code: 'image_too_large' },
    );
  }
  return { dataUri: `${prefix}${Buffer.from(image.bytes).toString('base64')}` };
}
