/**
 * Prompt templating and variant identity: pure and synchronous. The optional prompt writer lives
 * in ./writer.ts and is imported from there by the worker alone, so the api never loads the
 * OpenAI SDK for it.
 */
export { AVOID_SEPARATOR, avoidClause, avoidSuffix, withAvoid } from './avoid.ts';
export {
  type Brief,
  briefValue,
  createRenderer,
  DEFAULT_MAX_PROMPT_LENGTH,
  type LengthIssue,
  levelFragment,
  maxRenderedLength,
  type PromptRenderer,
  PromptTooLongError,
  type RendererOptions,
  type RendererResult,
  type RenderInput,
  type WorstCase,
} from './render.ts';
export {
  BRIEF_FIELDS,
  type BriefField,
  type CompileContext,
  type CompiledTemplate,
  type CompileResult,
  compileTemplate,
  type TemplateError,
  type TemplateSlot,
} from './template.ts';
export { type VariantKeyInput, variantKey, variantKeyer } from './variant-key.ts';
