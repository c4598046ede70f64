import { hash } from 'node:crypto';

/**
 * Variant identity: one hex sha256 per (campaign, combination, prompt, video settings), used as
 * a unique key so the same combination is never generated, or billed, twice for a campaign.
 *
 * Canonical encoding: every string is written as `<length>:<text>` (length in UTF-16 code
 * units), in this fixed order:
 *   tag, campaignId, <pair count>, (dimension, level) pairs sorted by dimension,
 *   prompt, provider, model, String(seconds), size
 * Each field says where it ends, so no two different inputs produce the same text however
 * their characters would concatenate: a value containing ":" or digits cannot shift a
 * boundary. The text is hashed as UTF-8, which is one-to-one for well-formed strings; one with
 * a lone surrogate (which UTF-8 would turn into U+FFFD) is hashed as UTF-16LE instead, whose
 * bytes cannot equal any UTF-8 encoding here because its second byte is 0 where the tag has "d".
 * Length prefixes rather than JSON: JSON.stringify of the array was ~5× slower at 100k keys.
 *
 * Dimension order is sorted by UTF-16 code unit, independent of object key order. Strings are
 * hashed exactly as given: no trimming or Unicode normalization, because any change reaches the
 * provider and may change the video.
 *
 * `prompt` should be the rendered template prompt, before any prompt-writer rewrite: a rewrite
 * is not reproducible, so keying on it would let a retried job create the same variant twice.
 *
 * The tag changes only with the encoding; stored keys stay comparable until then.
 */

const TAG = 'admatrix/variant/v1';

export interface VariantKeyInput {
  campaignId: string;
  /** Dimension key → level key. */
  levels: Readonly<Record<string, string>>;
  prompt: string;
  video: { provider: string; model: string; seconds: number; size: string };
}

const field = (s: string) => `${s.length}:${s}`;

export function variantKey(input: VariantKeyInput): string {
  const { campaignId, levels, prompt, video } = input;
  if (!Number.isFinite(video.seconds)) {
    throw new TypeError(`video.seconds must be a finite number, got ${video.seconds}`);
  }
  const dims = Object.keys(levels).sort();
  let text = field(TAG) + field(campaignId) + field(String(dims.length));
  for (const dim of dims) {
    const level = levels[dim];
    if (typeof level !== 'string') {
      throw new TypeError(`level for dimension "${dim}" must be a string`);
    }
    text += field(dim) + field(level);
  }
  text +=
    field(prompt) +
    field(video.provider) +
    field(video.model) +
    field(String(video.seconds)) +
    field(video.size);
  return text.isWellFormed()
    ? hash('sha256', text, 'hex')
    : hash('sha256', Buffer.from(text, 'utf16le'), 'hex');
}
