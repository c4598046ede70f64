import { describe, expect, it } from 'vitest';
import { BRIEF_FIELDS, type CompileResult, compileTemplate } from '../../src/prompts/index.ts';

const dims = ['tone', 'setting', 'city'];

function errorsOf(result: CompileResult) {
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.errors;
}

function compiled(template: string, dimensions = dims) {
  const result = compileTemplate(template, { dimensions });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.template;
}

describe('compileTemplate', () => {
  it('splits into literals around dimension and brief slots', () => {
    const t = compiled('A {{tone}} ad for {{brief.product}} set in {{setting}}, {{city}}.');
    expect(t.literals).toEqual(['A ', ' ad for ', ' set in ', ', ', '.']);
    expect(t.slots).toEqual([
      { kind: 'dimension', index: 0 },
      { kind: 'brief', field: 'product' },
      { kind: 'dimension', index: 1 },
      { kind: 'dimension', index: 2 },
    ]);
    expect(t.dimensions).toEqual(dims);
    expect(Object.isFrozen(t) && Object.isFrozen(t.literals) && Object.isFrozen(t.slots)).toBe(
      true,
    );
  });

  it('tolerates whitespace, tabs and newlines inside the braces', () => {
    const t = compiled('{{ tone }}|{{\ttone\n}}|{{  setting}}|{{city  }}|{{ brief.style }}');
    expect(t.slots.map((s) => (s.kind === 'dimension' ? s.index : s.field))).toEqual([
      0,
      0,
      1,
      2,
      'style',
    ]);
  });

  it('accepts every brief field and derives them from the campaign schema', () => {
    expect(BRIEF_FIELDS).toEqual([
      'product',
      'key_message',
      'audience',
      'call_to_action',
      'brand_guidelines',
      'avoid',
      'style',
    ]);
    const template = `${BRIEF_FIELDS.map((f) => `{{brief.${f}}}`).join(' ')} {{tone}}`;
    expect(compiled(template, ['tone']).slots).toHaveLength(BRIEF_FIELDS.length + 1);
  });

  it('names an unknown placeholder and lists the dimensions', () => {
    expect(
      errorsOf(
        compileTemplate('A {{mood}} ad', {
          dimensions: ['tone', 'setting'],
          requireAllDimensions: false,
        }),
      ),
    ).toEqual([
      {
        path: 'prompt_template',
        message: 'unknown placeholder {{mood}}; dimensions are tone, setting',
      },
    ]);
  });

  it('says when the matrix has no dimensions, and hints at a case slip', () => {
    expect(errorsOf(compileTemplate('{{x}}', { dimensions: [] }))[0]?.message).toBe(
      'unknown placeholder {{x}}; the matrix has no dimensions',
    );
    expect(errorsOf(compileTemplate('{{Tone}}', { dimensions: ['tone'] }))[0]?.message).toBe(
      'invalid placeholder {{Tone}}; dimensions are tone (did you mean {{tone}}?)',
    );
  });

  it('rejects an unknown brief field, listing the real ones', () => {
    const [error] = errorsOf(
      compileTemplate('{{tone}} {{brief.colour}}', { dimensions: ['tone'] }),
    );
    expect(error).toEqual({
      path: 'prompt_template',
      message: `unknown placeholder {{brief.colour}}; brief fields are ${BRIEF_FIELDS.join(', ')}`,
    });
  });

  it('reports each dimension with no placeholder, at the dimension', () => {
    expect(errorsOf(compileTemplate('A {{tone}} ad', { dimensions: dims }))).toEqual([
      {
        path: 'dimensions[1].key',
        message: 'dimension "setting" has no {{setting}} placeholder in prompt_template',
      },
      {
        path: 'dimensions[2].key',
        message: 'dimension "city" has no {{city}} placeholder in prompt_template',
      },
    ]);
  });

  it('lets secondary templates mention only some dimensions, under their own path', () => {
    expect(
      compileTemplate('Now in {{city}}', { dimensions: dims, requireAllDimensions: false }).ok,
    ).toBe(true);
    const result = compileTemplate('Now in {{town}}', {
      dimensions: dims,
      requireAllDimensions: false,
      path: 'overlay.text_template',
    });
    expect(errorsOf(result)[0]?.path).toBe('overlay.text_template');
  });

  it.each([
    ['{{tone} in {{setting}} {{city}}', 'another "{{" opens at character 12 before it is closed'],
    ['{{tone}} {{setting}} {{city', 'unclosed "{{" at character 22'],
    ['{{tone}} setting}} {{setting}} {{city}}', 'unmatched "}}" at character 17'],
    ['{{tone}} {{setting}} {{city}} {{', 'unclosed "{{" at character 31'],
    ['{{tone {{setting}} {{city}}', 'unclosed "{{" at character 1'],
  ])('rejects unbalanced braces: %s', (template, expected) => {
    const errors = errorsOf(compileTemplate(template, { dimensions: dims }));
    expect(errors.map((e) => e.message).join('\n')).toContain(expected);
  });

  it('rejects empty and malformed placeholder names', () => {
    const errors = errorsOf(
      compileTemplate('{{}} {{  }} {{{tone}}} {{1st}} {{tone}}', { dimensions: ['tone'] }),
    );
    expect(errors.map((e) => e.message)).toEqual([
      'empty placeholder {{}}',
      'empty placeholder {{  }}',
      'invalid placeholder {{{tone}}; dimensions are tone',
      'invalid placeholder {{1st}}; dimensions are tone',
    ]);
  });

  it('lists a repeated mistake once', () => {
    const errors = errorsOf(
      compileTemplate('{{mood}} {{ mood }} {{tone}}', { dimensions: ['tone'] }),
    );
    expect(errors).toHaveLength(1);
  });

  it('treats \\{{…}} and \\}} as literal braces that are not placeholders', () => {
    const t = compiled('Use \\{{tone}} or \\{{tone\\}} literally: {{tone}} \\}} }', ['tone']);
    expect(t.literals).toEqual(['Use {{tone}} or {{tone}} literally: ', ' }} }']);
    expect(t.slots).toHaveLength(1);
    // The escape covers one pair only: a later stray "}}" is still an error.
    expect(errorsOf(compileTemplate('\\{{a}} {{tone}} b}}', { dimensions: ['tone'] }))).toEqual([
      {
        path: 'prompt_template',
        message: 'unmatched "}}" at character 18 (write \\}} for a literal "}}")',
      },
    ]);
    // An escaped placeholder does not count as using the dimension.
    expect(errorsOf(compileTemplate('\\{{tone}}', { dimensions: ['tone'] }))[0]?.message).toBe(
      'dimension "tone" has no {{tone}} placeholder in prompt_template',
    );
  });

  it('keeps other backslashes and single braces as text', () => {
    const t = compiled('C:\\clips\\ {"mood": "{{tone}}"} \\n', ['tone']);
    expect(t.literals).toEqual(['C:\\clips\\ {"mood": "', '"} \\n']);
  });
});
