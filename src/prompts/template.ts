import { briefSchema } from '../campaigns/schemas.ts';

/**
 * Prompt template syntax, decided here:
 * - `{{ name }}` is a placeholder; whitespace inside the braces is ignored. `name` is a
 *   dimension key of the matrix or `brief.<field>`.
 * - `\{{` is a literal `{{`, and the `}}` that closes it is literal too, so `\{{tone}}`
 *   renders as `{{tone}}`. `\}}` is a literal `}}` on its own. A backslash anywhere else is
 *   an ordinary character, so paths and regex-looking text need no doubling; the one thing
 *   that cannot be written is a literal backslash directly before a placeholder.
 * - A single `{` or `}` is literal text. A `{{` without its `}}`, a `}}` without its `{{`, and
 *   a `{{` opened inside another placeholder are errors, because a typo there would otherwise
 *   send the braces to the video model verbatim.
 * - Substitution is one pass over the compiled parts: a level's text is never scanned for
 *   placeholders, so labels cannot inject or recurse.
 */

export type BriefField = keyof typeof briefSchema.shape;

/** Derived from the campaign schema so a new brief field is usable without touching this file. */
export const BRIEF_FIELDS: readonly BriefField[] = Object.freeze(
  Object.keys(briefSchema.shape) as BriefField[],
);

export type TemplateSlot =
  | { kind: 'dimension' /** index into `dimensions` */; index: number }
  | { kind: 'brief'; field: BriefField };

/**
 * A template split once into `literals.length === slots.length + 1` parts, so rendering is
 * concatenation only. Literals have escapes already resolved.
 */
export interface CompiledTemplate {
  readonly source: string;
  /** Dimension keys in matrix order; level indices passed to render follow this order. */
  readonly dimensions: readonly string[];
  readonly literals: readonly string[];
  readonly slots: readonly TemplateSlot[];
}

export interface TemplateError {
  path: string;
  message: string;
}

export type CompileResult =
  | { ok: true; template: CompiledTemplate }
  | { ok: false; errors: TemplateError[] };

export interface CompileContext {
  /** Dimension keys in matrix order. */
  dimensions: readonly string[];
  /**
   * Every dimension must appear in the template (default). A variant that differs only in a
   * level the prompt never mentions would be a duplicate video billed twice. Turn off for
   * secondary templates such as overlay captions, which mention only some dimensions.
   */
  requireAllDimensions?: boolean;
  /**
   * Dimensions that may go unmentioned even when all are required: a logo dimension varies
   * the picture composited onto the video, not the prompt.
   */
  optionalDimensions?: readonly string[];
  /** Error path for problems in the template text; `prompt_template` unless told. */
  path?: string;
}

const NAME = /^[a-z][a-z0-9_]*$/;
const BRIEF_PREFIX = 'brief.';

export function compileTemplate(template: string, ctx: CompileContext): CompileResult {
  const path = ctx.path ?? 'prompt_template';
  const dimIndex = new Map(ctx.dimensions.map((key, i) => [key, i]));
  const errors: TemplateError[] = [];
  // Same message for repeated occurrences of one mistake would only pad a 422.
  const seen = new Set<string>();
  const fail = (message: string) => {
    if (seen.has(message)) return;
    seen.add(message);
    errors.push({ path, message });
  };

  const literals: string[] = [];
  const slots: TemplateSlot[] = [];
  const used = new Set<number>();
  let literal = '';
  // Set by `\{{`: the next `}}` closes that literal pair instead of being unmatched.
  let escapedOpen = false;
  let i = 0;
  const n = template.length;

  while (i < n) {
    if (template.startsWith('\\{{', i) || template.startsWith('\\}}', i)) {
      escapedOpen = template[i + 1] === '{';
      literal += template.slice(i + 1, i + 3);
      i += 3;
      continue;
    }
    if (template.startsWith('{{', i)) {
      escapedOpen = false;
      const close = template.indexOf('}}', i + 2);
      const reopen = template.indexOf('{{', i + 2);
      if (close === -1) {
        fail(
          `unclosed "{{" at character ${i + 1}: every "{{" needs a "}}" (write \\{{ for a literal "{{")`,
        );
        break;
      }
      if (reopen !== -1 && reopen < close) {
        fail(
          `unclosed "{{" at character ${i + 1}: another "{{" opens at character ${reopen + 1} before it is closed`,
        );
        i = reopen;
        continue;
      }
      const raw = template.slice(i, close + 2);
      const slot = resolveName(
        template.slice(i + 2, close).trim(),
        raw,
        ctx.dimensions,
        dimIndex,
        fail,
      );
      if (slot) {
        if (slot.kind === 'dimension') used.add(slot.index);
        literals.push(literal);
        slots.push(slot);
        literal = '';
      }
      i = close + 2;
      continue;
    }
    if (template.startsWith('}}', i)) {
      if (escapedOpen) {
        escapedOpen = false;
        literal += '}}';
        i += 2;
        continue;
      }
      fail(`unmatched "}}" at character ${i + 1} (write \\}} for a literal "}}")`);
      i += 2;
      continue;
    }
    literal += template[i];
    i++;
  }
  literals.push(literal);

  if (ctx.requireAllDimensions ?? true) {
    ctx.dimensions.forEach((key, d) => {
      if (!used.has(d) && !ctx.optionalDimensions?.includes(key)) {
        errors.push({
          path: `dimensions[${d}].key`,
          message: `dimension "${key}" has no {{${key}}} placeholder in prompt_template`,
        });
      }
    });
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    template: Object.freeze({
      source: template,
      dimensions: Object.freeze([...ctx.dimensions]),
      literals: Object.freeze(literals),
      slots: Object.freeze(slots.map((s) => Object.freeze(s))),
    }),
  };
}

function resolveName(
  name: string,
  raw: string,
  dimensions: readonly string[],
  dimIndex: ReadonlyMap<string, number>,
  fail: (message: string) => void,
): TemplateSlot | undefined {
  if (name === '') {
    fail(`empty placeholder ${raw}`);
    return undefined;
  }
  if (name.startsWith(BRIEF_PREFIX)) {
    const field = name.slice(BRIEF_PREFIX.length);
    if ((BRIEF_FIELDS as readonly string[]).includes(field)) {
      return { kind: 'brief', field: field as BriefField };
    }
    fail(`unknown placeholder {{${name}}}; brief fields are ${BRIEF_FIELDS.join(', ')}`);
    return undefined;
  }
  const index = dimIndex.get(name);
  if (index !== undefined) return { kind: 'dimension', index };

  const lower = name.toLowerCase();
  const hint =
    lower !== name && (dimIndex.has(lower) || lower.startsWith(BRIEF_PREFIX))
      ? ` (did you mean {{${lower}}}?)`
      : '';
  const known =
    dimensions.length > 0
      ? `dimensions are ${dimensions.join(', ')}`
      : 'the matrix has no dimensions';
  const what = NAME.test(name) ? 'unknown placeholder' : 'invalid placeholder';
  fail(`${what} {{${name}}}; ${known}${hint}`);
  return undefined;
}
