import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  matrixInputSchema,
  toDesignSpace,
  validateMatrix,
} from '../../../src/matrices/parse/index.ts';
import { limits, longJson } from './fixtures.ts';

const dims = (...keys: string[]) => keys.map((key) => ({ key, levels: [{ key: 'a' }] }));

describe('validateMatrix: valid documents', () => {
  it('fills defaults, trims keys and normalizes constraints to matrix order', () => {
    const result = validateMatrix(
      {
        name: ' Spring launch ',
        dimensions: [
          {
            key: 'tone',
            label: 'Tone of voice',
            levels: [{ key: ' playful ' }, { key: 'serious', label: '' }],
          },
          {
            key: 'city',
            levels: [
              { key: 'Montre\u0301al', metadata: { region: 'QC', tags: ['fr', 1] } },
              { key: 'Paris' },
            ],
          },
        ],
        constraints: [{ exclude: { city: 'Montréal', tone: ['serious', 'playful', 'serious'] } }],
      },
      limits,
    );
    expect(result).toEqual({
      ok: true,
      matrix: {
        name: 'Spring launch',
        dimensions: [
          {
            key: 'tone',
            label: 'Tone of voice',
            levels: [
              { key: 'playful', label: 'playful' },
              { key: 'serious', label: 'serious' },
            ],
          },
          {
            key: 'city',
            label: 'city',
            levels: [
              // NFC: the decomposed "é" above becomes the composed one.
              { key: 'Montréal', label: 'Montréal', metadata: { region: 'QC', tags: ['fr', 1] } },
              { key: 'Paris', label: 'Paris' },
            ],
          },
        ],
        constraints: [{ exclude: { tone: ['playful', 'serious'], city: ['Montréal'] } }],
      },
    });
  });

  it('keeps prompts and asset ids', () => {
    const result = validateMatrix(longJson, limits);
    expect(result.ok && result.matrix.dimensions[1]?.levels[0]).toEqual({
      key: 'acme',
      label: 'ACME Corp',
      asset_id: 'ast_01HZY3K4M5N6P7Q8R9S0T1V2W3',
    });
    expect(result.ok && result.matrix.dimensions[0]?.levels[1]?.prompt).toBe(
      'calm voice-over,\nmuted palette',
    );
  });

  it('maps constraints to indices for the design generators', () => {
    const result = validateMatrix(
      {
        dimensions: [
          { key: 'tone', levels: [{ key: 'a' }, { key: 'b' }, { key: 'c' }] },
          { key: 'city', levels: [{ key: 'x' }, { key: 'y' }] },
        ],
        constraints: [{ exclude: { city: 'y', tone: ['c', 'a'] } }, { exclude: { tone: 'b' } }],
      },
      limits,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(toDesignSpace(result.matrix)).toEqual({
      levels: [3, 2],
      exclusions: [
        [
          { dim: 0, levels: [0, 2] },
          { dim: 1, levels: [1] },
        ],
        [{ dim: 0, levels: [1] }],
      ],
    });
  });

  it('exposes a plain object schema that converts to JSON Schema', () => {
    expect(matrixInputSchema).toBeInstanceOf(z.ZodObject);
    const json = z.toJSONSchema(matrixInputSchema, { io: 'input' }) as {
      required?: string[];
      additionalProperties?: unknown;
    };
    expect(json.required).toEqual(['dimensions']);
    expect(json.additionalProperties).toBe(false);
  });
});

describe('validateMatrix: unacceptable documents (invalid)', () => {
  const invalid = (doc: unknown, l = limits) => {
    const result = validateMatrix(doc, l);
    if (result.ok) throw new Error('expected errors');
    expect(result.kind).toBe('invalid');
    return result.errors;
  };

  it('rejects a matrix without dimensions and a dimension without levels', () => {
    expect(invalid({ dimensions: [] })).toEqual([
      { path: 'dimensions', message: 'the matrix has no dimensions' },
    ]);
    expect(invalid({ dimensions: [{ key: 'tone', levels: [] }] })).toEqual([
      { path: 'dimensions[0].levels', message: 'dimension "tone" has no levels' },
    ]);
  });

  it('rejects duplicate dimension keys and duplicate level keys, ignoring case', () => {
    expect(
      invalid({
        dimensions: [
          { key: 'tone', levels: [{ key: 'playful' }, { key: 'serious' }, { key: 'playful ' }] },
          { key: 'city', levels: [{ key: 'Paris' }, { key: 'paris' }] },
          { key: 'tone', levels: [{ key: 'x' }] },
        ],
      }),
    ).toEqual([
      {
        path: 'dimensions[0].levels[2].key',
        message: 'duplicate level key "playful" (first at dimensions[0].levels[0])',
      },
      {
        path: 'dimensions[1].levels[1].key',
        message:
          'level key "paris" duplicates "Paris" ignoring case (first at dimensions[1].levels[0])',
      },
      {
        path: 'dimensions[2].key',
        message: 'duplicate dimension key "tone" (first at dimensions[0])',
      },
    ]);
  });

  it('rejects bad dimension keys with a clear message', () => {
    expect(invalid({ dimensions: dims('Tone', '1st', 'a'.repeat(33), 'ok_key9') })).toEqual([
      {
        path: 'dimensions[0].key',
        message:
          'dimension key "Tone" must start with a lowercase letter and contain only lowercase letters, digits and "_" (at most 32 characters) (did you mean "tone"?)',
      },
      {
        path: 'dimensions[1].key',
        message:
          'dimension key "1st" must start with a lowercase letter and contain only lowercase letters, digits and "_" (at most 32 characters)',
      },
      {
        path: 'dimensions[2].key',
        message: `dimension key "${'a'.repeat(33)}" must start with a lowercase letter and contain only lowercase letters, digits and "_" (at most 32 characters)`,
      },
    ]);
  });

  it('rejects too many dimensions, levels and constraints at the first one over the limit', () => {
    const small = { ...limits, maxDimensions: 2, maxLevelsPerDimension: 2, maxConstraints: 1 };
    expect(
      invalid(
        {
          dimensions: [
            { key: 'a', levels: [{ key: '1' }, { key: '2' }, { key: '3' }] },
            { key: 'b', levels: [{ key: '1' }] },
            { key: 'c', levels: [{ key: '1' }] },
          ],
          constraints: [{ exclude: { a: '1' } }, { exclude: { b: '1' } }],
        },
        small,
      ),
    ).toEqual([
      { path: 'dimensions[2]', message: 'too many dimensions: 3 (the limit is 2)' },
      {
        path: 'dimensions[0].levels[2]',
        message: 'too many levels in dimension "a": 3 (the limit is 2)',
      },
      { path: 'constraints[1]', message: 'too many constraints: 2 (the limit is 1)' },
    ]);
  });

  it('rejects constraints naming unknown dimensions or levels, or with no terms', () => {
    expect(
      invalid({
        dimensions: [
          { key: 'tone', levels: [{ key: 'playful' }] },
          { key: 'city', levels: [{ key: 'Paris' }] },
        ],
        constraints: [
          { exclude: { Tone: 'playful', weather: 'rain' } },
          { exclude: { city: ['Paris', 'paris', 'Lyon'] } },
          { exclude: {} },
          { exclude: { tone: [] } },
        ],
      }),
    ).toEqual([
      {
        path: 'constraints[0].exclude.Tone',
        message: 'unknown dimension "Tone" (did you mean "tone"?)',
      },
      { path: 'constraints[0].exclude.weather', message: 'unknown dimension "weather"' },
      {
        path: 'constraints[1].exclude.city[1]',
        message: 'unknown level "paris" in dimension "city" (did you mean "Paris"?)',
      },
      {
        path: 'constraints[1].exclude.city[2]',
        message: 'unknown level "Lyon" in dimension "city"',
      },
      {
        path: 'constraints[2].exclude',
        message: 'constraint has no terms: name at least one dimension',
      },
      { path: 'constraints[3].exclude.tone', message: 'no levels given for dimension "tone"' },
    ]);
  });

  it('checks level fields: key, label, prompt, asset id shape, metadata size', () => {
    expect(
      invalid({
        dimensions: [
          {
            key: 'partner',
            levels: [
              { key: '   ' },
              { key: 'k'.repeat(65) },
              { key: 'tab\there' },
              { key: 'a', label: 'x'.repeat(201) },
              { key: 'b', prompt: 'p'.repeat(501) },
              { key: 'c', prompt: 'in {{city}}' },
              { key: 'd', asset_id: 'cmp_01HZY3K4M5N6P7Q8R9S0T1V2W3' },
              { key: 'e', asset_id: 'ast_../../etc' },
              { key: 'f', metadata: { blob: 'x'.repeat(2048) } },
            ],
          },
        ],
      }).map((e) => `${e.path}: ${e.message}`),
    ).toEqual([
      'dimensions[0].levels[0].key: level key is empty',
      'dimensions[0].levels[1].key: level key is longer than 64 characters',
      'dimensions[0].levels[2].key: level key contains control characters',
      'dimensions[0].levels[3].label: label is longer than 200 characters',
      'dimensions[0].levels[4].prompt: prompt is longer than 500 characters',
      'dimensions[0].levels[5].prompt: prompt must not contain "{{" or "}}" (placeholders belong in the prompt template)',
      'dimensions[0].levels[6].asset_id: asset_id must be an asset id like "ast_…", got "cmp_01HZY3K4M5N6P7Q8R9S0T1V2W3"',
      'dimensions[0].levels[7].asset_id: asset_id must be an asset id like "ast_…", got "ast_../../etc"',
      'dimensions[0].levels[8].metadata: metadata is larger than 2048 bytes as JSON',
    ]);
  });

  it('reports value errors and semantic errors together', () => {
    expect(
      invalid({
        dimensions: [
          { key: 'Tone', levels: [{ key: 'a' }, { key: 'a' }] },
          { key: 'city', levels: [] },
        ],
      }).map((e) => e.path),
    ).toEqual(['dimensions[0].key', 'dimensions[0].levels[1].key', 'dimensions[1].levels']);
  });
});

describe('validateMatrix: wrongly shaped documents (malformed)', () => {
  it.each([
    ['not an object', 'matrix', ''],
    ['dimensions not an array', { dimensions: 'tone' }, 'dimensions'],
    ['unknown field', { dimensions: [], constraint: [] }, ''],
    [
      'nested metadata',
      { dimensions: [{ key: 'a', levels: [{ key: 'b', metadata: { x: { y: 1 } } }] }] },
      'dimensions[0].levels[0].metadata.x',
    ],
    [
      'exclude value of the wrong type',
      { dimensions: [], constraints: [{ exclude: { a: 1 } }] },
      'constraints[0].exclude.a',
    ],
  ])('%s', (_name, doc, path) => {
    const result = validateMatrix(doc, limits);
    expect(result).toMatchObject({ ok: false, kind: 'malformed', errors: [{ path }] });
  });

  it('names unknown fields', () => {
    expect(validateMatrix({ dimensions: [], lables: 1 }, limits)).toEqual({
      ok: false,
      kind: 'malformed',
      errors: [{ path: '', message: 'unknown field(s): "lables"' }],
    });
  });
});

describe('toDesignSpace', () => {
  it('refuses a matrix that was not validated', () => {
    expect(() =>
      toDesignSpace({ dimensions: [], constraints: [{ exclude: { tone: ['a'] } }] }),
    ).toThrow(/unknown dimension "tone"/);
  });
});
