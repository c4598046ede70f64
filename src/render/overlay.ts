import type { Brief, MatrixDocument } from '../db/schema.ts';
import { briefValue, compileTemplate } from '../prompts/index.ts';

/**
 * The text burnt into the video (e.g. "Now in {{city}}"): dimension placeholders take the
 * level's label, which is what a viewer should read, not the prompt fragment.
 */
export function overlayText(p: {
  template: string | undefined;
  dimensions: MatrixDocument['dimensions'];
  levels: Record<string, string>;
  brief: Brief;
}): string[] {
  if (!p.template) return [];
  const compiled = compileTemplate(p.template, {
    dimensions: p.dimensions.map((d) => d.key),
    requireAllDimensions: false,
    path: 'overlay.text_template',
  });
  // Checked when the matrix was created; a template edited since then degrades to no text.
  if (!compiled.ok) return [];
  const { literals, slots } = compiled.template;
  let text = literals[0] ?? '';
  slots.forEach((slot, i) => {
    if (slot.kind === 'dimension') {
      const dim = p.dimensions[slot.index];
      const key = dim ? p.levels[dim.key] : undefined;
      text += dim?.levels.find((l) => l.key === key)?.label ?? key ?? '';
    } else {
      text += briefValue(p.brief, slot.field);
    }
    text += literals[i + 1] ?? '';
  });
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}
