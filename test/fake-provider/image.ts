import { createHash } from 'node:crypto';

/**
 * What the fakes check of a first-frame image, as the real APIs do: its type from the bytes
 * (not the declared one), its pixel size, and a hash so tests can prove the bytes arrived.
 * Written independently of src/media so a mistake there cannot hide here.
 */
export interface ReceivedImage {
  /** What the bytes are, or null when they are not a PNG, JPEG or WebP. */
  type: 'image/png' | 'image/jpeg' | 'image/webp' | null;
  width: number | null;
  height: number | null;
  bytes: number;
  sha256: string;
}

function jpegSize(b: Buffer): [number, number] | null {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const len = b.readUInt16BE(i + 2);
    const sof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (sof) return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
    i += 2 + len;
  }
  return null;
}

function webpSize(b: Buffer): [number, number] | null {
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8X' && b.length >= 30) return [b.readUIntLE(24, 3) + 1, b.readUIntLE(27, 3) + 1];
  if (chunk === 'VP8L' && b.length >= 25) {
    const bits = b.readUInt32LE(21);
    return [(bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1];
  }
  if (chunk === 'VP8 ' && b.length >= 30)
    return [b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff];
  return null;
}

export function inspectImage(bytes: Uint8Array): ReceivedImage {
  const b = Buffer.from(bytes);
  const facts = { bytes: b.length, sha256: createHash('sha256').update(b).digest('hex') };
  let type: ReceivedImage['type'] = null;
  let size: [number, number] | null = null;
  if (
    b.length >= 24 &&
    b.readUInt32BE(0) === 0x89504e47 &&
    b.toString('latin1', 12, 16) === 'IHDR'
  ) {
    type = 'image/png';
    size = [b.readUInt32BE(16), b.readUInt32BE(20)];
  } else if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    type = 'image/jpeg';
    size = jpegSize(b);
  } else if (b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') {
    type = 'image/webp';
    size = webpSize(b);
  }
  return { type, width: size?.[0] ?? null, height: size?.[1] ?? null, ...facts };
}

const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]+=*)$/;

/** A base64 data URI's declared type and bytes, or null when it is not one. */
export function decodeDataUri(uri: string): { declared: string; bytes: Buffer } | null {
  const m = DATA_URI.exec(uri);
  return m ? { declared: m[1]!, bytes: Buffer.from(m[2]!, 'base64') } : null;
}
