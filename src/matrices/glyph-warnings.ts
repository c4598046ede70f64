import type { NormalizedMatrix } from './parse/index.ts';

interface GlyphWarning {
  code: 'missing_glyphs';
  path: string;
  dimension: string;
  level: string;
  characters: string[];
  message: string;
}

/** Characters of a text that no caption font draws (the media layer's coverage table). */
export type MissingGlyphs = (text: string) => Promise<string[]>;

/** `東 (U+6771), 京 (U+4EAC)`: each character beside its code point, for a message. */
export function showCharacters(characters: readonly string[]): string {
  return characters
    .map((c) => `${c} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`)
    .join(', ');
}

/**
 * A level's label is what captions draw (the overlay's placeholders, the local renderer's
 * card). Characters no shipped font has would come out as empty boxes on every variant, so
 * the upload says so, naming the level and the characters; it still succeeds. The campaign's
 * own text (templates, call to action, AI label) is checked where it is written, on the
 * campaign's create and patch (src/campaigns/glyph-warnings.ts).
 */
export async function glyphWarnings(
  matrix: NormalizedMatrix,
  missingGlyphs: MissingGlyphs,
): Promise<GlyphWarning[]> {
  const warnings: GlyphWarning[] = [];
  for (const [d, dim] of matrix.dimensions.entries()) {
    for (const [l, level] of dim.levels.entries()) {
      const characters = await missingGlyphs(level.label);
      if (characters.length === 0) continue;
      warnings.push({
        code: 'missing_glyphs',
        path: `dimensions[${d}].levels[${l}].label`,
        dimension: dim.key,
        level: level.key,
        characters,
        message: `Level "${level.key}" of "${dim.key}": no caption font draws ${showCharacters(characters)}; captions would show empty boxes there.`,
      });
    }
  }
  return warnings;
}
