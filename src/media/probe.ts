import { stat } from 'node:fs/promises';
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

export function parseProbe(
  json: string,
  file: string,
): Omit<ProbeResult, 'bytes'> & { bytes?: number } {
  let data: FfprobeOutput;
  try {
    data = JSON.parse(json) as FfprobeOutput;
  } catch (err) {
    throw new MediaError(`ffprobe printed invalid JSON for ${file}`, {
      code: 'INVALID_OUTPUT',
      tool: 'ffprobe',
      cause: err,
    });
  }
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
  const parsed = parseProbe(stdout.toString('utf8'), file);
  const bytes = parsed.bytes ?? (await stat(file)).size;
  return { ...parsed, bytes };
}
