/**
 * Prompt templating, variant identity and the optional prompt writer. Everything except the
 * writer is pure and synchronous; the writer takes its OpenAI client as a dependency, so
 * importing this module opens no connections and reads no environment.
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
export { type VariantKeyInput, variantKey } from './variant-key.ts';
export {
  containsPhrase,
  createPromptWriter,
  type FallbackReason,
  type PromptWriter,
  PromptWriterError,
  type PromptWriterOptions,
  type RewriteInput,
  type RewriteLevel,
  type RewriteResult,
} from './writer.ts';
