import { type CaptionLine, charsThatFit, lineHeightFor, wrapCaptions } from './captions.ts';

type DisclosurePosition = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

export interface DisclosureSpec {
  text: string;
  position: DisclosurePosition;
  /** Shown from the start for this long; null: the whole video. */
  seconds: number | null;
}

/** Pixels along the top and bottom edges that other overlay elements (the text band) hold. */
export interface ReservedEdges {
  top: number;
  bottom: number;
}

/** At most this many lines: a label is a few words (60 characters at most). */
const MAX_LABEL_LINES = 3;

/**
 * The visible AI label: white text on an opaque black box in a corner, small (3% of the
 * shorter side, at least 12 px) but legible, drawn by the same libass pass as the city line.
 * Each line is anchored at its corner, so libass sizes the box from the shaped glyphs (a CJK
 * or Arabic label as much as a Latin one) and it grows away from the edge, never past it.
 * A label longer than the frame's width wraps like the band's captions (wide characters
 * counted double). Bottom corners sit above `reserved.bottom`, top ones below `reserved.top`,
 * so the label never lands inside the city/legal band.
 */
export function disclosureLines(
  d: DisclosureSpec,
  width: number,
  height: number,
  reserved: ReservedEdges = { top: 0, bottom: 0 },
): CaptionLine[] {
  const short = Math.min(width, height);
  const fontsize = Math.max(12, Math.round(short * 0.03));
  const padding = Math.round(fontsize * 0.4);
  // From the frame edge to the text: a gap, then the box's padding.
  const margin = Math.round(short * 0.03) + padding;
  const lines = wrapCaptions([d.text], charsThatFit(width - 2 * margin, fontsize), MAX_LABEL_LINES);
  const pitch = lineHeightFor(fontsize);
  const left = d.position.endsWith('left');
  const top = d.position.startsWith('top');
  return lines.map((text, i) => ({
    text,
    anchor: d.position,
    x: left ? margin : width - margin,
    y: top
      ? margin + reserved.top + i * pitch
      : height - margin - reserved.bottom - (lines.length - 1 - i) * pitch,
    fontsize,
    color: 'ffffff',
    box: { color: '000000', padding },
    ...(d.seconds === null ? {} : { until: d.seconds }),
  }));
}
