import type { DisclosureSettings } from '../db/schema.ts';
import type { DisclosureSpec } from '../media/disclosure.ts';
import { footageIsTrained } from './manifest.ts';

const DEFAULT_DISCLOSURE: DisclosureSettings = {
  visible: true,
  text: 'AI-generated',
  position: 'top-left',
  seconds: null,
};

/**
 * The label drawn on a variant, or null. On by default for every variant a trained model
 * made: AI Act Art. 50(4) asks whoever publishes realistic generated footage (people, places,
 * products that look real, which is what ads show) to disclose it, and a campaign that judges
 * its footage plainly not realistic, or relies on the platform's own label, can turn it off
 * (`visible: false`). The machine-readable mark (the C2PA manifest) is there either way.
 * Footage with no trained model behind it (the built-in renderer's templates) gets no label;
 * a spot's footage is its shots', whatever the variant's own provider.
 */
export function disclosureFor(v: {
  provider: string;
  shots: readonly { provider: string }[];
  overlay: { disclosure?: DisclosureSettings | undefined };
}): DisclosureSpec | null {
  if (!footageIsTrained(v)) return null;
  const d = { ...DEFAULT_DISCLOSURE, ...v.overlay.disclosure };
  if (!d.visible) return null;
  return { text: d.text, position: d.position, seconds: d.seconds };
}
