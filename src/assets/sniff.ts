export type ImageType = 'image/png' | 'image/jpeg' | 'image/webp';

/**
 * The type the bytes say, whatever the file name or the client's Content-Type claim.
 * Returns what it recognises so an SVG or a GIF can be named in the error.
 */
export function sniffImage(head: Buffer): ImageType | 'image/svg+xml' | 'image/gif' | null {
  if (
    head.length >= 8 &&
    head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  ) {
    return 'image/png';
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff)
    return 'image/jpeg';
  if (
    head.length >= 12 &&
    head.toString('latin1', 0, 4) === 'RIFF' &&
    head.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return 'image/webp';
  }
  if (head.toString('latin1', 0, 6) === 'GIF87a' || head.toString('latin1', 0, 6) === 'GIF89a')
    return 'image/gif';
  const text = head.toString('utf8').trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg')))
    return 'image/svg+xml';
  return null;
}

export const acceptedImageTypes: readonly ImageType[] = ['image/png', 'image/jpeg', 'image/webp'];
