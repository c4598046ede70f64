import { type CaptionLine, charsThatFit, lineHeightFor, wrapCaptions } from './captions.ts';
import { inputArgs } from './ffmpeg.ts';
import { isLight } from './local-render.ts';

/** A spot's closing card, drawn in the assembly's own ffmpeg run (no extra encode). */
export interface EndCardSpec {
  seconds: number;
  /** `rrggbb` (a leading # is accepted). */
  background: string;
  /** The call to action, already rendered from the template, one entry a line. */
  lines: readonly string[];
  /** Small print at the foot: the overlay's city/legal lines. */
  legal: readonly string[];
  /** The variant's logo image, centred above the text; null: none. */
  logo?: string | null | undefined;
}

/** The logo's pixel size, probed by the caller. */
interface LogoSize {
  width: number;
  height: number;
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** Logo box: 40% of the width, at most a quarter of the height, centred on the upper third. */
function logoBox(W: number, H: number, logo: LogoSize) {
  let w = even(W * 0.4);
  let h = even((w * logo.height) / logo.width);
  if (h > H * 0.25) {
    h = even(H * 0.25);
    w = even((h * logo.width) / logo.height);
  }
  return { w, h, x: Math.round((W - w) / 2), y: Math.round(H * 0.32 - h / 2) };
}

/**
 * Where the card's text goes: the call to action in large type below the logo (or centred
 * without one), the legal lines small at the foot. Positions are pixels of a W×H frame.
 */
export function endCardCaptions(spec: EndCardSpec, W: number, H: number, hasLogo: boolean) {
  const short = Math.min(W, H);
  const ctaSize = Math.max(12, Math.round(short * 0.075));
  const legalSize = Math.max(10, Math.round(short * 0.028));
  const colour = isLight(spec.background.replace(/^#/, '')) ? '111111' : 'ffffff';
  const cta = wrapCaptions(spec.lines, charsThatFit(W * 0.85, ctaSize), 4);
  const ctaPitch = lineHeightFor(ctaSize);
  const ctaCentre = hasLogo ? H * 0.58 : H * 0.45;
  const ctaTop = Math.round(ctaCentre - (cta.length * ctaPitch) / 2);
  const legal = wrapCaptions(spec.legal, charsThatFit(W * 0.9, legalSize), 3);
  const legalPitch = lineHeightFor(legalSize);
  const legalTop = Math.round(H - H * 0.05 - legal.length * legalPitch);
  const lines: CaptionLine[] = [
    ...cta.map((text, i) => ({ text, y: ctaTop + i * ctaPitch, bold: true })),
    ...legal.map((text, i) => ({ text, y: legalTop + i * legalPitch, fontsize: legalSize })),
  ];
  return { width: W, height: H, lines, style: { fontsize: ctaSize, color: colour } };
}

/**
 * The card's inputs (a colour source, the logo) and the filter chain that ends in `[label]`,
 * normalised like the shots so it concatenates after them. `first` is the card's first
 * input index; `text` the captions filter from withCaptions (null without text).
 */
export function endCardGraph(
  spec: EndCardSpec,
  p: {
    width: number;
    height: number;
    fps: number;
    first: number;
    text: string | null;
    logo: LogoSize | null;
  },
  label: string,
): { inputs: string[]; graph: string[] } {
  const { width: W, height: H, fps, first } = p;
  const bg = spec.background.replace(/^#/, '').toLowerCase();
  const inputs = ['-f', 'lavfi', '-i', `color=c=0x${bg}:s=${W}x${H}:r=${fps}:d=${spec.seconds}`];
  const graph: string[] = [];
  let current = `[${first}:v]`;
  if (spec.logo && p.logo) {
    inputs.push(...inputArgs(spec.logo));
    const r = logoBox(W, H, p.logo);
    // rgba before scaling so the logo's transparency survives into overlay's blend.
    graph.push(`[${first + 1}:v]format=rgba,scale=${r.w}:${r.h}:flags=lanczos[cardlogo]`);
    graph.push(`${current}[cardlogo]overlay=x=${r.x}:y=${r.y}:eof_action=repeat[cardbg]`);
    current = '[cardbg]';
  }
  graph.push(
    `${current}${p.text ? `${p.text},` : ''}format=yuv420p,setsar=1,settb=1/${fps}[${label}]`,
  );
  return { inputs, graph };
}
