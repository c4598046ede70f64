import type { Brief, OverlaySettings, SpotSettings } from '../db/schema.ts';
import { type MissingGlyphs, showCharacters } from '../matrices/glyph-warnings.ts';

interface CampaignGlyphWarning {
  code: 'missing_glyphs';
  path: string;
  characters: string[];
  message: string;
}

/** A template's own text: placeholders out (their values are checked where they are set). */
function literalText(template: string): string {
  return template.replace(/(?<!\\)\{\{[^{}]*\}\}/g, ' ').replace(/\\(\{\{|\}\})/g, '$1');
}

/** `brief.<field>` placeholders of a template, which draw that brief text. */
function briefFields(template: string): string[] {
  return [...template.matchAll(/(?<!\\)\{\{\s*brief\.([a-z_]+)\s*\}\}/g)].map((m) => m[1]!);
}

/**
 * The campaign's own text that captions draw: the overlay template's words, the end card's,
 * the brief fields they show, the call to action (the built-in renderer animates it in), and
 * the visible AI label. Checked on the campaign's create and patch responses, not at matrix upload:
 * that is where a campaign manager types this text, and it changes without any new matrix.
 * Level labels, which fill the placeholders, are checked at matrix upload
 * (src/matrices/glyph-warnings.ts). A warning, never a refusal.
 */
export async function campaignGlyphWarnings(
  c: { brief: Brief; overlay: OverlaySettings; spot: SpotSettings | null },
  missingGlyphs: MissingGlyphs,
): Promise<CampaignGlyphWarning[]> {
  const texts = new Map<string, string>();
  const templates: [string, string | undefined][] = [
    ['overlay.text_template', c.overlay.text_template],
    ['spot.end_card.text_template', c.spot?.end_card?.text_template],
  ];
  for (const [path, template] of templates) {
    if (!template) continue;
    texts.set(path, literalText(template));
    for (const field of briefFields(template)) {
      const value = c.brief[field as keyof Brief];
      if (typeof value === 'string') texts.set(`brief.${field}`, value);
    }
  }
  if (c.brief.call_to_action) texts.set('brief.call_to_action', c.brief.call_to_action);
  const disclosure = c.overlay.disclosure;
  if (disclosure?.visible !== false && disclosure?.text)
    texts.set('overlay.disclosure.text', disclosure.text);

  const warnings: CampaignGlyphWarning[] = [];
  for (const [path, text] of texts) {
    const characters = await missingGlyphs(text);
    if (characters.length === 0) continue;
    warnings.push({
      code: 'missing_glyphs',
      path,
      characters,
      message: `${path}: no caption font draws ${showCharacters(characters)}; captions would show empty boxes there.`,
    });
  }
  return warnings;
}
