import type { CaptionLine } from './captions.ts';

type DisclosurePosition = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

export interface DisclosureSpec {
  text: string;
  position: DisclosurePosition;
  /** Shown from the start for this long; null: the whole video. */
  seconds: number | null;
}

/**
 * The visible AI label: white text on an opaque black box in a corner, small (3% of the
 * shorter side, at least 12 px) but legible, drawn by the same libass pass as the city line.
 */
export function disclosureLine(d: DisclosureSpec, width: number, height: number): CaptionLine {
  const fontsize = Math.max(12, Math.round(Math.min(width, height) * 0.03));
  const padding = Math.round(fontsize * 0.4);
  const margin = Math.round(Math.min(width, height) * 0.03) + padding;
  // Centred on its estimated width (an average advance of 0.6 em, as captions.ts estimates),
  // so the box stays inside the margin on either side.
  const halfWidth = d.text.length * fontsize * 0.3;
  const left = d.position.endsWith('left');
  const top = d.position.startsWith('top');
  return {
    text: d.text,
    x: left ? margin + halfWidth : width - margin - halfWidth,
    y: top ? margin : height - margin - Math.round(fontsize * 1.2),
    fontsize,
    color: 'ffffff',
    box: { color: '000000', padding },
    ...(d.seconds === null ? {} : { until: d.seconds }),
  };
}
