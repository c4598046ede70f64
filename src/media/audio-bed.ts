import { fileArg, inputArgs, MediaError, type Run, untrustedInputOptions } from './ffmpeg.ts';
import { probeJson } from './probe.ts';

/** One audio bed under a whole spot. */
export interface AudioBedSpec {
  path: string;
  /** Before normalisation: it changes what the limiter sees, not the final loudness. */
  gainDb: number;
}

/** Streaming platforms' target; the bed is the spot's only sound. */
const TARGET_LUFS = -14;
/**
 * −1 dBTP is the ceiling; AAC encoding overshoots the PCM's peak by a few tenths of a dB, so
 * the normaliser aims half a dB lower.
 */
const NORMALISER_TP = -1.5;
const TARGET_LRA = 11;

/** The fade-out: a second, or a fifth of a short spot. */
function fadeSeconds(total: number): number {
  return Math.min(1, total / 5);
}

export interface LoudnessMeasure {
  input_i: number;
  input_tp: number;
  input_lra: number;
  input_thresh: number;
  target_offset: number;
}

/** Looped or trimmed to `seconds`, the gain applied and faded out: what gets normalised. */
function shapeChain(spec: AudioBedSpec, seconds: number): string {
  const fade = fadeSeconds(seconds);
  return [
    `atrim=start=0:end=${seconds}`,
    'asetpts=PTS-STARTPTS',
    `volume=${spec.gainDb}dB`,
    `afade=t=out:st=${(seconds - fade).toFixed(6)}:d=${fade}`,
  ].join(',');
}

/** `-stream_loop -1`: a bed shorter than the spot repeats; atrim ends it. */
export function bedInputArgs(spec: AudioBedSpec): string[] {
  return ['-stream_loop', '-1', ...inputArgs(spec.path)];
}

/** loudnorm's JSON report, the last `{…}` ffmpeg printed. */
function parseLoudnorm(stderr: string): Record<string, string> {
  const start = stderr.lastIndexOf('{');
  const end = stderr.lastIndexOf('}');
  if (start < 0 || end < start)
    throw new MediaError('loudnorm printed no report', { code: 'INVALID_OUTPUT', tool: 'ffmpeg' });
  try {
    return JSON.parse(stderr.slice(start, end + 1)) as Record<string, string>;
  } catch (err) {
    throw new MediaError('loudnorm printed an unreadable report', {
      code: 'INVALID_OUTPUT',
      tool: 'ffmpeg',
      cause: err,
    });
  }
}

/**
 * Integrated loudness, true peak and range of `input` (any audio or video file), as loudnorm's
 * first pass reports them. `chain` filters before measuring.
 */
async function measureLoudness(
  ffmpeg: Run,
  input: { args: string[]; chain?: string | undefined },
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<LoudnessMeasure> {
  const filter = `${input.chain ? `${input.chain},` : ''}loudnorm=I=${TARGET_LUFS}:TP=${NORMALISER_TP}:LRA=${TARGET_LRA}:print_format=json`;
  // The runner asks for errors only; the report is printed at info level.
  const { stderrTail } = await ffmpeg(
    [...input.args, '-loglevel', 'info', '-nostats', '-vn', '-af', filter, '-f', 'null', '-'],
    { signal: opts.signal, maxStderrBytes: 64 * 1024 },
  );
  const raw = parseLoudnorm(stderrTail);
  const n = (key: string) => Number.parseFloat(raw[key] ?? '');
  return {
    input_i: n('input_i'),
    input_tp: n('input_tp'),
    input_lra: n('input_lra'),
    input_thresh: n('input_thresh'),
    target_offset: n('target_offset'),
  };
}

/** The loudness of a finished file's first audio stream. */
export function measureFile(ffmpeg: Run, file: string, opts: { signal?: AbortSignal } = {}) {
  return measureLoudness(ffmpeg, { args: [...untrustedInputOptions(), '-i', fileArg(file)] }, opts);
}

/**
 * First pass: the shaped bed measured, so the second applies one linear gain (loudnorm's
 * dynamic mode, its fallback, pumps on a short file). Silence has no loudness to measure:
 * null, and the bed is left as it is.
 */
export async function measureBed(
  ffmpeg: Run,
  spec: AudioBedSpec,
  seconds: number,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<LoudnessMeasure | null> {
  const m = await measureLoudness(
    ffmpeg,
    { args: bedInputArgs(spec), chain: shapeChain(spec, seconds) },
    opts,
  );
  const usable = [m.input_i, m.input_tp, m.input_lra, m.input_thresh, m.target_offset].every(
    Number.isFinite,
  );
  return usable && m.input_i > -70 ? m : null;
}

/**
 * Second pass, inside the assembly's graph: input `index` shaped, normalised with the measured
 * values (linear) and resampled back from loudnorm's internal 192 kHz, ending in `[label]`.
 */
export function bedGraph(
  spec: AudioBedSpec,
  p: { index: number; seconds: number; measured: LoudnessMeasure | null },
  label: string,
): string {
  const m = p.measured;
  const normalise = m
    ? `,loudnorm=I=${TARGET_LUFS}:TP=${NORMALISER_TP}:LRA=${TARGET_LRA}` +
      `:measured_I=${m.input_i}:measured_TP=${m.input_tp}:measured_LRA=${m.input_lra}` +
      `:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true`
    : '';
  return (
    `[${p.index}:a]${shapeChain(spec, p.seconds)}${normalise},` +
    `aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[${label}]`
  );
}

export interface AudioFacts {
  duration_s: number;
  /** First audio stream's codec, ffprobe's name; null without one. */
  codec: string | null;
  /** A picture stream other than cover art: a video, not an audio file. */
  has_video: boolean;
}

/** ffprobe of an untrusted audio file (probe() wants a picture; this does not). */
export async function probeAudio(
  ffprobe: Run,
  file: string,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<AudioFacts> {
  const data = await probeJson(ffprobe, file, opts);
  const streams = data.streams ?? [];
  const audio = streams.find((s) => s.codec_type === 'audio');
  const duration = Number.parseFloat(data.format?.duration ?? '');
  return {
    duration_s: Number.isFinite(duration) ? duration : 0,
    codec: audio ? (audio.codec_name ?? 'unknown') : null,
    has_video: streams.some((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1),
  };
}
