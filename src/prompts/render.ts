import type { CreateCampaignBody } from '../campaigns/schemas.ts';
import type { NormalizedDimension, NormalizedLevel } from '../matrices/parse/index.ts';
import { avoidSuffix } from './avoid.ts';
import type { BriefField, CompiledTemplate, TemplateError } from './template.ts';

/**
 * Binding a compiled template to a matrix and a brief, then rendering by level indices.
 *
 * Lengths are JavaScript string lengths (UTF-16 code units), the unit zod's `.max()` uses for
 * every other limit in the API. It over-counts astral characters such as emoji, which errs on
 * the safe side of a provider's own limit.
 */

export type Brief = CreateCampaignBody['brief'];

export const DEFAULT_MAX_PROMPT_LENGTH = 2000;

export interface RenderInput {
  /** The matrix's dimensions, in the order the template was compiled with. */
  dimensions: readonly NormalizedDimension[];
  brief: Brief;
  /**
   * Append `withAvoid`'s clause for `brief.avoid` (default true: neither provider has a
   * negative-prompt field). The clause counts toward the length cap.
   */
  appendAvoid?: boolean;
}

export interface RendererOptions extends RenderInput {
  /** Longest prompt render accepts, clause included; default 2000. */
  maxLength?: number;
}

export interface WorstCase {
  /** Exact length of the longest prompt any combination renders (constraints ignored). */
  length: number;
  /** A combination reaching it: dimension key → level key. */
  levels: Record<string, string>;
  indices: number[];
}

/** A 422-ready description of a prompt over the cap, naming the variant's levels. */
export interface LengthIssue extends TemplateError {
  length: number;
  maxLength: number;
  levels: Record<string, string>;
}

export class PromptTooLongError extends Error {
  readonly issue: LengthIssue;
  constructor(issue: LengthIssue) {
    super(issue.message);
    this.name = 'PromptTooLongError';
    this.issue = issue;
  }
}

export interface PromptRenderer {
  readonly template: CompiledTemplate;
  readonly maxLength: number;
  readonly worstCase: WorstCase;
  /**
   * Null when every combination of the matrix fits under maxLength, so nothing needs checking
   * per variant. Otherwise the longest combination; constraints are ignored, so it may be one
   * the design excludes; callers that care can check their actual rows with lengthOf.
   */
  readonly worstCaseIssue: LengthIssue | null;
  /** Length render would produce, without building the string. */
  lengthOf(levelIndices: ArrayLike<number>, offset?: number): number;
  /**
   * Prompt for one combination: `levelIndices[offset + d]` is the level of dimension d (so a
   * FlatDesign row renders without a copy). Throws PromptTooLongError past maxLength and
   * RangeError for an index outside its dimension.
   */
  render(levelIndices: ArrayLike<number>, offset?: number): string;
  /** Dimension key → level key for a combination, as variantKey and error messages want it. */
  levelsOf(levelIndices: ArrayLike<number>, offset?: number): Record<string, string>;
}

export type RendererResult =
  | { ok: true; renderer: PromptRenderer }
  | { ok: false; errors: TemplateError[] };

/** What a level contributes to the prompt: its prompt fragment, else its label. */
export function levelFragment(level: NormalizedLevel): string {
  return level.prompt ?? level.label;
}

/** The text `{{brief.<field>}}` renders to; '' when the brief leaves the field out. */
export function briefValue(brief: Brief, field: BriefField): string {
  const value = brief[field];
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Worst-case prompt length in O(total levels): body length is a sum over slots, so the longest
 * prompt takes the longest fragment of every dimension, whatever the number of combinations.
 */
export function maxRenderedLength(template: CompiledTemplate, input: RenderInput): WorstCase {
  const occurrences = countOccurrences(template);
  let length = fixedLength(template, input);
  const levels: Record<string, string> = {};
  const indices: number[] = [];
  input.dimensions.forEach((dim, d) => {
    let best = 0;
    let bestLen = -1;
    dim.levels.forEach((level, i) => {
      const len = levelFragment(level).length;
      if (len > bestLen) {
        best = i;
        bestLen = len;
      }
    });
    indices.push(best);
    const level = dim.levels[best];
    if (level) {
      levels[dim.key] = level.key;
      length += bestLen * (occurrences[d] ?? 0);
    }
  });
  return { length, levels, indices };
}

export function createRenderer(template: CompiledTemplate, opts: RendererOptions): RendererResult {
  const errors = bindErrors(template, opts);
  if (errors.length > 0) return { ok: false, errors };

  const maxLength = opts.maxLength ?? DEFAULT_MAX_PROMPT_LENGTH;
  const dims = opts.dimensions;
  const width = dims.length;
  const dimKeys = dims.map((d) => d.key);
  const levelKeys = dims.map((d) => d.levels.map((l) => l.key));
  const fragments = dims.map((d) => d.levels.map(levelFragment));
  const fragmentLengths = fragments.map((f) => Int32Array.from(f, (s) => s.length));
  const occurrences = countOccurrences(template);
  const suffix = opts.appendAvoid === false ? '' : avoidSuffix(opts.brief.avoid);
  const fixed = fixedLength(template, opts);

  // Brief values are constant per campaign, so they are folded into the neighbouring literals
  // and the hot loop only visits dimension slots.
  const literals: string[] = [];
  const slotDims: number[] = [];
  let pending = template.literals[0] ?? '';
  template.slots.forEach((slot, k) => {
    const next = template.literals[k + 1] ?? '';
    if (slot.kind === 'brief') {
      pending += briefValue(opts.brief, slot.field) + next;
    } else {
      literals.push(pending);
      slotDims.push(slot.index);
      pending = next;
    }
  });
  literals.push(pending);
  const slotCount = slotDims.length;

  const levelsOf = (idx: ArrayLike<number>, offset = 0): Record<string, string> => {
    const out: Record<string, string> = {};
    for (let d = 0; d < width; d++) {
      out[dimKeys[d]!] = levelKeys[d]![idx[offset + d]!] ?? String(idx[offset + d]);
    }
    return out;
  };

  const issue = (length: number, levels: Record<string, string>): LengthIssue => {
    const named = Object.entries(levels)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return {
      path: 'prompt_template',
      message: `the prompt for ${named || 'this variant'} is ${length} characters; the limit is ${maxLength}`,
      length,
      maxLength,
      levels,
    };
  };

  const outOfRange = (idx: ArrayLike<number>, offset: number, d: number) =>
    new RangeError(
      `level index ${String(idx[offset + d])} is out of range for dimension "${dimKeys[d]}" (${levelKeys[d]!.length} levels)`,
    );

  const lengthOf = (idx: ArrayLike<number>, offset = 0): number => {
    let length = fixed;
    for (let d = 0; d < width; d++) {
      const len = fragmentLengths[d]![idx[offset + d]!];
      if (len === undefined) throw outOfRange(idx, offset, d);
      length += len * occurrences[d]!;
    }
    return length;
  };

  const render = (idx: ArrayLike<number>, offset = 0): string => {
    let out = literals[0]!;
    for (let k = 0; k < slotCount; k++) {
      const d = slotDims[k]!;
      const fragment = fragments[d]![idx[offset + d]!];
      if (fragment === undefined) throw outOfRange(idx, offset, d);
      out += fragment + literals[k + 1]!;
    }
    out += suffix;
    if (out.length > maxLength)
      throw new PromptTooLongError(issue(out.length, levelsOf(idx, offset)));
    return out;
  };

  const worstCase = maxRenderedLength(template, opts);
  return {
    ok: true,
    renderer: Object.freeze({
      template,
      maxLength,
      worstCase,
      worstCaseIssue:
        worstCase.length > maxLength ? issue(worstCase.length, worstCase.levels) : null,
      lengthOf,
      render,
      levelsOf,
    }),
  };
}

function bindErrors(template: CompiledTemplate, opts: RendererOptions): TemplateError[] {
  const errors: TemplateError[] = [];
  const given = opts.dimensions.map((d) => d.key);
  if (given.join('\0') !== template.dimensions.join('\0')) {
    errors.push({
      path: 'dimensions',
      message: `matrix dimensions (${given.join(', ')}) differ from those the template was compiled for (${template.dimensions.join(', ')})`,
    });
  }
  opts.dimensions.forEach((d, i) => {
    if (d.levels.length === 0) {
      errors.push({
        path: `dimensions[${i}].levels`,
        message: `dimension "${d.key}" has no levels`,
      });
    }
  });
  const missing = new Set<BriefField>();
  for (const slot of template.slots) {
    if (slot.kind === 'brief' && briefValue(opts.brief, slot.field) === '') missing.add(slot.field);
  }
  for (const field of missing) {
    // An empty substitution would leave "for  in Paris" in every prompt of the campaign.
    errors.push({
      path: `brief.${field}`,
      message: `prompt_template uses {{brief.${field}}} but the brief has no ${field}`,
    });
  }
  if (opts.maxLength !== undefined && !(Number.isInteger(opts.maxLength) && opts.maxLength > 0)) {
    errors.push({ path: 'maxLength', message: 'maxLength must be a positive integer' });
  }
  return errors;
}

/** Literal text, brief values and the avoid clause: the part of every prompt's length that no level changes. */
function fixedLength(template: CompiledTemplate, input: RenderInput): number {
  let length = 0;
  for (const literal of template.literals) length += literal.length;
  for (const slot of template.slots) {
    if (slot.kind === 'brief') length += briefValue(input.brief, slot.field).length;
  }
  if (input.appendAvoid !== false) length += avoidSuffix(input.brief.avoid).length;
  return length;
}

/** How many times each dimension's placeholder appears; a repeated one counts each time. */
function countOccurrences(template: CompiledTemplate): number[] {
  const counts = template.dimensions.map(() => 0);
  for (const slot of template.slots) {
    if (slot.kind === 'dimension') counts[slot.index] = (counts[slot.index] ?? 0) + 1;
  }
  return counts;
}
