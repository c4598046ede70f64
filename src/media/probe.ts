import { open, stat } from 'node:fs/promises';
import { fileArg, MediaError, type Run, untrustedInputOptions } from './ffmpeg.ts';

export interface ProbeResult {
  /** 0 for still images, which have no duration. */
  duration_s: number;
  /** Display size: already swapped for 90°/270° rotated phone footage, as ffmpeg's filters see it. */
  width: number;
  height: number;
  video_codec: string;
  has_audio: boolean;
  /** First audio stream's codec, null without audio. */
  audio_codec: string | null;
  bytes: number;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number | string }>;
  disposition?: { attached_pic?: number };
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { duration?: string; size?: string };
}

function finite(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : Number.parseFloat(String(value ?? ''));
  return Number.isFinite(n) ? n : undefined;
}

function rotationOf(stream: FfprobeStream): number {
  // Older ffprobe reports a `rotate` tag, newer ones a display-matrix side datum.
  const fromSideData = stream.side_data_list
    ?.map((d) => finite(d.rotation))
    .find((r) => r !== undefined);
  const degrees = fromSideData ?? finite(stream.tags?.rotate) ?? 0;
  return ((Math.round(degrees) % 360) + 360) % 360;
}

/** ffprobe's streams and format of an untrusted file, parsed. */
export async function probeJson(
  ffprobe: Run,
  file: string,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<FfprobeOutput> {
  const { stdout } = await ffprobe(
    [
      ...untrustedInputOptions(),
      '-print_format',
      'json',
      '-show_streams',
      '-show_format',
      fileArg(file),
    ],
    { signal: opts.signal },
  );
  try {
    return JSON.parse(stdout.toString('utf8')) as FfprobeOutput;
  } catch (err) {
    throw new MediaError(`ffprobe printed invalid JSON for ${file}`, {
      code: 'INVALID_OUTPUT',
      tool: 'ffprobe',
      cause: err,
    });
  }
}

function parseProbe(
  data: FfprobeOutput,
  file: string,
): Omit<ProbeResult, 'bytes'> & { bytes?: number } {
  const streams = data.streams ?? [];
  // Cover art in audio files shows up as a video stream; it is not the picture we want.
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  if (!video?.width || !video.height) {
    throw new MediaError(`no video stream in ${file}`, { code: 'INVALID_INPUT', tool: 'ffprobe' });
  }
  const audio = streams.find((s) => s.codec_type === 'audio');
  const quarterTurn = rotationOf(video) % 180 === 90;
  const bytes = finite(data.format?.size);
  return {
    duration_s: finite(data.format?.duration) ?? finite(video.duration) ?? 0,
    width: quarterTurn ? video.height : video.width,
    height: quarterTurn ? video.width : video.height,
    video_codec: video.codec_name ?? 'unknown',
    has_audio: audio !== undefined,
    audio_codec: audio ? (audio.codec_name ?? 'unknown') : null,
    ...(bytes === undefined ? {} : { bytes }),
  };
}

export async function probe(
  ffprobe: Run,
  file: string,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<ProbeResult> {
  const parsed = parseProbe(await probeJson(ffprobe, file, opts), file);
  const bytes = parsed.bytes ?? (await stat(file)).size;
  return { ...parsed, bytes };
}

export interface ImageHeader {
  format: 'png' | 'jpeg' | 'webp';
  width: number;
  height: number;
}

/**
 * The size an image declares in its header, read without decoding: a 250 KB PNG can declare
 * 16000×16000 and cost ffmpeg seconds and 250 MB to decode, so limits are checked on this
 * first. Positioned reads of a few bytes per JPEG segment, never the whole file: image-size
 * would want the bytes up to the frame header in memory, and EXIF/ICC segments before it can
 * make that most of the file. Null when the header is missing, cut short or malformed (which
 * no decoder would accept either). Headers can lie; the decode that follows is what checks.
 */
export async function readImageHeader(file: string): Promise<ImageHeader | null> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const at = async (position: number, length: number): Promise<Buffer | null> => {
      if (position < 0 || position + length > size) return null;
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, position);
      return bytesRead === length ? buf : null;
    };
    const head = await at(0, 30);
    if (!head) return null;
    if (head.readUInt32BE(0) === 0x89504e47 && head.toString('latin1', 12, 16) === 'IHDR') {
      return sized('png', head.readUInt32BE(16), head.readUInt32BE(20));
    }
    if (head[0] === 0xff && head[1] === 0xd8) return await jpegSize(at);
    if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') {
      return webpSize(head);
    }
    return null;
  } finally {
    await handle.close();
  }
}

function sized(format: ImageHeader['format'], width: number, height: number): ImageHeader | null {
  return width > 0 && height > 0 ? { format, width, height } : null;
}

/** Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range. */
const isStartOfFrame = (m: number) =>
  m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
/** Markers without a length field: TEM, RST0..7. */
const isStandalone = (m: number) => m === 0x01 || (m >= 0xd0 && m <= 0xd7);
// A real file reaches its frame header within a handful of segments; this bounds a crafted one.
const MAX_JPEG_SEGMENTS = 1024;

async function jpegSize(
  at: (position: number, length: number) => Promise<Buffer | null>,
): Promise<ImageHeader | null> {
  let pos = 2;
  for (let segments = 0; segments < MAX_JPEG_SEGMENTS; segments++) {
    const marker = await at(pos, 2);
    if (marker?.[0] !== 0xff) return null;
    const m = marker[1]!;
    if (m === 0xff) {
      pos += 1; // fill byte before a marker
      continue;
    }
    if (isStandalone(m)) {
      pos += 2;
      continue;
    }
    // Scan data or the end before any frame header: not an image a decoder would draw.
    if (m === 0xda || m === 0xd9 || m === 0xd8) return null;
    const segment = await at(pos + 2, isStartOfFrame(m) ? 7 : 2);
    if (!segment) return null;
    const length = segment.readUInt16BE(0);
    if (length < 2) return null;
    if (isStartOfFrame(m)) return sized('jpeg', segment.readUInt16BE(5), segment.readUInt16BE(3));
    pos += 2 + length;
  }
  return null;
}

function webpSize(head: Buffer): ImageHeader | null {
  const chunk = head.toString('latin1', 12, 16);
  if (chunk === 'VP8X') {
    // Canvas size, minus one, as 24-bit little-endian numbers.
    return sized('webp', head.readUIntLE(24, 3) + 1, head.readUIntLE(27, 3) + 1);
  }
  if (chunk === 'VP8L') {
    if (head[20] !== 0x2f) return null;
    const bits = head.readUInt32LE(21);
    return sized('webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8 ') {
    // Key frame start code, then 14-bit sizes (the top two bits are a scaling hint).
    if (head[23] !== 0x9d || head[24] !== 0x01 || head[25] !== 0x2a) return null;
    return sized('webp', head.readUInt16LE(26) & 0x3fff, head.readUInt16LE(28) & 0x3fff);
  }
  return null;
}
