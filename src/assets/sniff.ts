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

export type AudioType = 'audio/mpeg' | 'audio/aac' | 'audio/mp4' | 'audio/wav' | 'audio/ogg';

/** Codecs each container may carry for an audio bed; ffprobe's names. */
export const audioCodecsOf: Record<AudioType, (codec: string) => boolean> = {
  'audio/mpeg': (c) => c === 'mp3',
  'audio/aac': (c) => c === 'aac',
  'audio/mp4': (c) => c === 'aac',
  'audio/wav': (c) => c.startsWith('pcm_'),
  'audio/ogg': (c) => c === 'vorbis' || c === 'opus' || c === 'flac',
};

/**
 * MP3 (an ID3 tag or an MPEG audio frame sync), AAC in ADTS (a frame sync with layer 0) or in
 * an MP4 (`ftyp`, the M4A case: that it holds audio only is ffprobe's to say), WAV (RIFF/WAVE)
 * and Ogg (`OggS`), by their first bytes.
 */
export function sniffAudio(head: Buffer): AudioType | null {
  if (head.length < 12) return null;
  if (head.toString('latin1', 0, 3) === 'ID3') return 'audio/mpeg';
  if (head[0] === 0xff && (head[1]! & 0xf6) === 0xf0) return 'audio/aac';
  // Sync, then a layer other than the reserved 00 (which is ADTS above).
  if (head[0] === 0xff && (head[1]! & 0xe0) === 0xe0 && (head[1]! & 0x06) !== 0)
    return 'audio/mpeg';
  if (head.toString('latin1', 4, 8) === 'ftyp') return 'audio/mp4';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WAVE')
    return 'audio/wav';
  if (head.toString('latin1', 0, 4) === 'OggS') return 'audio/ogg';
  return null;
}
