import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type VariantKeyInput, variantKey, variantKeyer } from '../../src/prompts/index.ts';
import { rng } from './fixtures.ts';

const base: VariantKeyInput = {
  campaignId: 'cmp_01',
  levels: { tone: 'playful', city: 'paris', setting: 'beach' },
  prompt: 'A Playful ad for Fizz Cola set in Beach, Paris.',
  video: { provider: 'openai', model: 'sora-2', seconds: 8, size: '720x1280' },
};

function withVideo(video: Partial<VariantKeyInput['video']>): VariantKeyInput {
  return { ...base, video: { ...base.video, ...video } };
}

describe('variantKey', () => {
  it('is the sha256 of the documented canonical encoding', () => {
    const canonical =
      '19:admatrix/variant/v1' +
      '6:cmp_01' +
      '1:3' +
      '4:city5:paris' +
      '7:setting5:beach' +
      '4:tone7:playful' +
      `${base.prompt.length}:${base.prompt}` +
      '6:openai6:sora-21:88:720x1280';
    expect(variantKey(base)).toBe(createHash('sha256').update(canonical, 'utf8').digest('hex'));
    expect(variantKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on the order of the level keys', () => {
    const reordered = { ...base, levels: { setting: 'beach', tone: 'playful', city: 'paris' } };
    expect(variantKey(reordered)).toBe(variantKey(base));
  });

  it('changes with every field', () => {
    const variants: VariantKeyInput[] = [
      { ...base, campaignId: 'cmp_02' },
      { ...base, levels: { ...base.levels, city: 'tokyo' } },
      { ...base, levels: { ...base.levels, extra: 'x' } },
      { ...base, levels: { tone: 'playful', city: 'paris' } },
      { ...base, prompt: `${base.prompt} ` },
      withVideo({ provider: 'local' }),
      withVideo({ model: 'sora-2-pro' }),
      withVideo({ seconds: 4 }),
      withVideo({ size: '1280x720' }),
    ];
    const keys = new Set([variantKey(base), ...variants.map(variantKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('does not collide when text moves across a field boundary', () => {
    const pairs: [VariantKeyInput, VariantKeyInput][] = [
      [
        withVideo({ provider: 'openai', model: 'sora-2' }),
        withVideo({ provider: 'opena', model: 'isora-2' }),
      ],
      [
        { ...base, levels: { a: 'bc' } },
        { ...base, levels: { ab: 'c' } },
      ],
      [
        { ...base, levels: { a: 'b', c: 'd' } },
        { ...base, levels: { a: 'b","c', '"': 'd' } },
      ],
      [
        { ...base, levels: { a: 'b"],["c', x: 'd' } },
        { ...base, levels: { a: 'b', c: 'd', x: 'd' } },
      ],
      [
        { ...base, campaignId: 'c', prompt: 'x' },
        { ...base, campaignId: 'c",[],"x', prompt: '' },
      ],
      [withVideo({ seconds: 8, size: '720x1280' }), withVideo({ seconds: 87, size: '20x1280' })],
      [
        { ...base, prompt: 'a\\' },
        { ...base, prompt: 'a\\\\' },
      ],
    ];
    for (const [a, b] of pairs)
      expect(variantKey(a), JSON.stringify([a, b])).not.toBe(variantKey(b));
  });

  it('gives distinct keys to distinct inputs made of separator-like characters', () => {
    // Short random fields over the characters a delimiter-based encoding would trip on, so
    // neighbouring fields often differ only by where a boundary falls.
    const alphabet = ['a', '1', ':', '|', ',', '"', '\\', '\0', '\n', '\ud800', '\udc00', '\ufffd'];
    const random = rng(2024);
    const text = () => {
      let s = '';
      for (let n = Math.floor(random() * 3); n > 0; n--)
        s += alphabet[Math.floor(random() * alphabet.length)];
      return s;
    };
    const seen = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const levels: Record<string, string> = {};
      for (let n = Math.floor(random() * 3); n > 0; n--) levels[text()] = text();
      const input: VariantKeyInput = {
        campaignId: text(),
        levels,
        prompt: text(),
        video: {
          provider: text(),
          model: text(),
          seconds: Math.floor(random() * 12),
          size: text(),
        },
      };
      const identity = JSON.stringify([
        input.campaignId,
        Object.entries(levels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
        input.prompt,
        input.video,
      ]);
      const key = variantKey(input);
      expect(seen.get(key) ?? identity).toBe(identity);
      seen.set(key, identity);
    }
    expect(seen.size).toBeGreaterThan(15_000);
  });

  it('hashes text exactly, without Unicode normalization', () => {
    const nfc = { ...base, levels: { city: 'caf\u00e9' } };
    const nfd = { ...base, levels: { city: 'cafe\u0301' } };
    expect(variantKey(nfc)).not.toBe(variantKey(nfd));
  });

  it('rejects seconds that JSON would turn into null', () => {
    expect(() => variantKey(withVideo({ seconds: Number.NaN }))).toThrow(TypeError);
    expect(() => variantKey(withVideo({ seconds: Number.POSITIVE_INFINITY }))).toThrow(TypeError);
  });
});

describe('variantKeyer', () => {
  it('gives exactly variantKey for every combination, whatever the dimension order', () => {
    const random = rng(11);
    const pieces = ['a', 'B', 'é', 'cafe\u0301', '1:', ':', '\ud83d\ude00', '\ud800', '', 'zz'];
    const text = () =>
      Array.from(
        { length: 1 + Math.floor(random() * 3) },
        () => pieces[Math.floor(random() * pieces.length)],
      ).join('');
    for (let trial = 0; trial < 200; trial++) {
      // Keys unique per dimension set, in an order that sorting changes.
      const dimensions = ['tone', 'City', 'a', 'é', '\ud800x']
        .slice(0, 1 + Math.floor(random() * 5))
        .reverse()
        .map((key) => ({
          key,
          levels: Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => `${text()}${i}`),
        }));
      const video = { provider: text(), model: text(), seconds: trial % 13, size: text() };
      const campaignId = text();
      const keyer = variantKeyer({ campaignId, dimensions, video });
      const combo = dimensions.map((d) => Math.floor(random() * d.levels.length));
      const prompt = text();
      const levels = Object.fromEntries(dimensions.map((d, i) => [d.key, d.levels[combo[i]!]!]));
      expect(keyer(combo, prompt)).toBe(variantKey({ campaignId, levels, prompt, video }));
    }
  });

  it('refuses a level index the matrix does not have', () => {
    const keyer = variantKeyer({
      campaignId: 'cmp_01',
      dimensions: [{ key: 'tone', levels: ['calm'] }],
      video: base.video,
    });
    expect(() => keyer([1], 'p')).toThrow(RangeError);
  });
});
