import { type AudioBedSpec, bedGraph, bedInputArgs, measureBed } from './audio-bed.ts';
import { type CaptionContext, withCaptions } from './captions.ts';
import { type EndCardSpec, endCardCaptions, endCardGraph } from './end-card.ts';
import { type EncoderSettings, encodeMp4, inputArgs, type Runner } from './ffmpeg.ts';
import { type ProbeResult, probe } from './probe.ts';

interface AssembleContext extends CaptionContext {
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
  /** Follows the last shot with a cut, after any transitions among the shots. */
  endCard?: EndCardSpec | null | undefined;
  /** Under the whole spot, end card included; without one the spot is silent. */
  audio?: AudioBedSpec | null | undefined;
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

/** The shots joined into `[label]`: cut end to end, or crossfaded. */
function joinGraph(
  seconds: readonly number[],
  transition: AssembleOptions['transition'],
  label: string,
) {
  const n = seconds.length;
  if (n === 1) return [`[c0]null[${label}]`];
  if (transition.type === 'cut' || transition.seconds <= 0)
    return [`${seconds.map((_, i) => `[c${i}]`).join('')}concat=n=${n}:v=1:a=0[${label}]`];
  const t = transition.seconds;
  const offsets = fadeOffsets(seconds, t);
  let current = '[c0]';
  return offsets.map((offset, k) => {
    const out = k === offsets.length - 1 ? `[${label}]` : `[x${k}]`;
    const step = `${current}[c${k + 1}]xfade=transition=fade:duration=${t}:offset=${offset.toFixed(6)}${out}`;
    current = out;
    return step;
  });
}

/** The assembled length: the shots less their fades' overlaps, plus the end card. */
export function spotSeconds(opts: Pick<AssembleOptions, 'clips' | 'transition' | 'endCard'>) {
  const overlap = opts.transition.type === 'fade' ? opts.transition.seconds : 0;
  const shots = opts.clips.reduce((sum, c) => sum + c.seconds, 0);
  return shots - overlap * (opts.clips.length - 1) + (opts.endCard?.seconds ?? 0);
}

/**
 * Joins a spot's shots into one clip: each normalised to the same size, rate, pixel format,
 * sample aspect and timebase, held to its nominal length, then cut or crossfaded; then the end
 * card with a cut, and the audio bed under it all (AAC). Providers' own soundtracks are dropped:
 * they would jump at every cut. Same inputs, same bytes (bitexact, fixed encoder threads).
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
  const card = opts.endCard;
  graph.push(
    ...joinGraph(
      opts.clips.map((c) => c.seconds),
      opts.transition,
      card ? 'shots' : 'v',
    ),
  );
  const total = spotSeconds(opts);
  const bed = opts.audio;
  const measured = bed ? await measureBed(runner.ffmpeg, bed, total, opts) : null;
  const logo = card?.logo ? await probe(runner.ffprobe, card.logo, { signal: opts.signal }) : null;
  const captions = card
    ? endCardCaptions(card, W, H, logo !== null)
    : { width: W, height: H, lines: [], style: { fontsize: 10, color: 'ffffff' } };
  return withCaptions(ctx, captions, async (text, env) => {
    const inputs = opts.clips.flatMap((c) => inputArgs(c.path));
    if (card) {
      const first = opts.clips.length;
      const part = endCardGraph(card, { width: W, height: H, fps, first, text, logo }, 'card');
      inputs.push(...part.inputs);
      graph.push(...part.graph, '[shots][card]concat=n=2:v=1:a=0[v]');
    }
    let audioArgs = ['-an'];
    if (bed) {
      // Counted from the inputs so far: every input is `-i` once.
      const index = inputs.filter((a) => a === '-i').length;
      inputs.push(...bedInputArgs(bed));
      graph.push(bedGraph(bed, { index, seconds: total, measured }, 'a'));
      audioArgs = ['-map', '[a]', '-c:a', 'aac', '-b:a', '160k', '-flags:a', '+bitexact'];
    }
    await encodeMp4(
      ctx,
      opts.out,
      [...inputs, '-filter_complex', graph.join(';'), '-map', '[v]', ...audioArgs, '-r', `${fps}`],
      { signal: opts.signal, env },
    );
    return probe(runner.ffprobe, opts.out, { signal: opts.signal });
  });
}
