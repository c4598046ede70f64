import {
  type EncoderSettings,
  fileArg,
  h264Args,
  inputArgs,
  mp4MuxArgs,
  type Runner,
  writeAtomically,
} from './ffmpeg.ts';
import { type ProbeResult, probe } from './probe.ts';

interface AssembleContext {
  runner: Runner;
  encoder: EncoderSettings;
}

export interface AssembleOptions {
  /** In order; each is cut (or padded with its last frame) to exactly `seconds`. */
  clips: readonly { path: string; seconds: number }[];
  out: string;
  width: number;
  height: number;
  /** 30 unless told: providers deliver 24, 25 or 30, and xfade needs one rate. */
  fps?: number | undefined;
  /** `fade` overlaps neighbours by `seconds`; `cut` joins them end to end. */
  transition: { type: 'cut' | 'fade'; seconds: number };
  signal?: AbortSignal | undefined;
}

/**
 * Within this share of the target's aspect ratio a clip is cropped to fill the frame (it loses
 * a sliver of its edges, none of its centre); further off it is letterboxed, so nothing inside
 * the clip's safe area (its centre 90%) is ever cut away.
 */
const cropTolerance = 0.1;

export function fitFilter(clip: { width: number; height: number }, W: number, H: number): string {
  const ratio = clip.width / clip.height / (W / H);
  if (Math.abs(ratio - 1) <= cropTolerance)
    return `scale=${W}:${H}:force_original_aspect_ratio=increase:flags=bicubic,crop=${W}:${H}`;
  return `scale=${W}:${H}:force_original_aspect_ratio=decrease:flags=bicubic,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2:black`;
}

/**
 * xfade offsets are on the first input's timeline: transition k (1-based) starts at the
 * summed length of clips 1..k less the k transitions up to and including it.
 */
function fadeOffsets(seconds: readonly number[], transition: number): number[] {
  const offsets: number[] = [];
  let end = 0;
  for (let k = 0; k < seconds.length - 1; k++) {
    end += seconds[k]!;
    offsets.push(end - (k + 1) * transition);
  }
  return offsets;
}

/**
 * Joins a spot's shots into one clip: each normalised to the same size, rate, pixel format,
 * sample aspect and timebase, held to its nominal length, then cut or crossfaded. Video only:
 * providers' own soundtracks would jump at every cut. Same inputs, same bytes (bitexact,
 * fixed encoder threads).
 */
export async function assemble(ctx: AssembleContext, opts: AssembleOptions): Promise<ProbeResult> {
  const { runner } = ctx;
  const fps = opts.fps ?? 30;
  const W = opts.width;
  const H = opts.height;
  const facts = await Promise.all(
    opts.clips.map((c) => probe(runner.ffprobe, c.path, { signal: opts.signal })),
  );
  const graph = opts.clips.map((c, i) => {
    const s = c.seconds;
    return (
      `[${i}:v]${fitFilter(facts[i]!, W, H)},fps=${fps},format=yuv420p,setsar=1,` +
      `tpad=stop_mode=clone:stop_duration=${s},trim=duration=${s},setpts=PTS-STARTPTS,settb=1/${fps}[c${i}]`
    );
  });
  const n = opts.clips.length;
  if (n === 1) graph.push('[c0]null[v]');
  else if (opts.transition.type === 'cut' || opts.transition.seconds <= 0) {
    graph.push(`${opts.clips.map((_, i) => `[c${i}]`).join('')}concat=n=${n}:v=1:a=0[v]`);
  } else {
    const t = opts.transition.seconds;
    const offsets = fadeOffsets(
      opts.clips.map((c) => c.seconds),
      t,
    );
    let current = '[c0]';
    offsets.forEach((offset, k) => {
      const out = k === offsets.length - 1 ? '[v]' : `[x${k}]`;
      graph.push(
        `${current}[c${k + 1}]xfade=transition=fade:duration=${t}:offset=${offset.toFixed(6)}${out}`,
      );
      current = out;
    });
  }
  await writeAtomically(opts.out, (tmp) =>
    runner.ffmpeg(
      [
        ...opts.clips.flatMap((c) => inputArgs(c.path)),
        '-filter_complex',
        graph.join(';'),
        '-map',
        '[v]',
        '-an',
        '-r',
        String(fps),
        ...h264Args(ctx.encoder),
        ...mp4MuxArgs(),
        '-y',
        fileArg(tmp),
      ],
      { signal: opts.signal },
    ),
  );
  return probe(runner.ffprobe, opts.out, { signal: opts.signal });
}
