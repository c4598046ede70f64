import type OpenAI from 'openai';
import {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  ContentFilterFinishReasonError,
  LengthFinishReasonError,
} from 'openai/error';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { avoidSuffix } from './avoid.ts';
import { type Brief, DEFAULT_MAX_PROMPT_LENGTH } from './render.ts';

/**
 * Optional prompt writer: an LLM turns the rendered template prompt into a cinematic shot
 * description. The template prompt stays the source of truth; the rewrite is accepted only if
 * it passes checks done here in code, not trusted to the model:
 * - the reply is JSON of the expected shape (zod, via the SDK's structured-output parser);
 * - every level's label appears in it, case-insensitively and as a whole phrase (so the label
 *   "Red" is not satisfied by "rediscover"), because a variant whose variable was paraphrased
 *   away is no longer the A/B cell it is recorded as;
 * - it fits the length cap, less the avoid clause.
 *
 * Fallback policy: a reply that fails any check (bad JSON, wrong shape, dropped label, too
 * long, empty, refusal, content filter, cut off at the token limit) falls back to the original
 * prompt with the reason. A request that fails (HTTP error after the SDK's retries, timeout,
 * connection) throws PromptWriterError by default: when the writer is down, silently sending
 * unrewritten prompts would mix two prompt styles across the cells of one experiment, so the
 * job should retry later instead. `onApiError: 'fallback'` opts into degrading. An abort via
 * `signal` always rethrows.
 *
 * The avoid clause withAvoid appended is split off before rewriting and put back verbatim: a
 * model paraphrasing negative guidance tends to turn "Avoid: alcohol" into a scene that shows it.
 */

export interface PromptWriterOptions {
  client: OpenAI;
  model: string;
  /** Cap on the returned prompt, avoid clause included; default 2000 like the renderer. */
  maxLength?: number;
  /** Per request attempt, in ms; default 30 s. */
  timeoutMs?: number;
  /** SDK retries on connection errors, 408/409/429 and 5xx; default 2. */
  maxRetries?: number;
  /** Default 'throw'; see the fallback policy above. */
  onApiError?: 'throw' | 'fallback';
  /** Unset by default: reasoning models reject it. */
  temperature?: number;
}

interface RewriteLevel {
  /** Dimension key. */
  dimension: string;
  /** Level key. */
  level: string;
  /** Must survive the rewrite. */
  label: string;
}

export interface RewriteInput {
  prompt: string;
  brief: Brief;
  levels: readonly RewriteLevel[];
  signal?: AbortSignal;
}

type FallbackReason =
  | 'invalid_output'
  | 'refused'
  | 'content_filter'
  | 'empty'
  | 'too_long'
  | 'missing_levels'
  | 'api_error';

type RewriteResult =
  | { rewritten: true; prompt: string }
  | { rewritten: false; prompt: string; reason: FallbackReason; detail: string };

export interface PromptWriter {
  rewrite(input: RewriteInput): Promise<RewriteResult>;
}

export class PromptWriterError extends Error {
  /** True for timeouts, connection errors, 408/409/429 and 5xx: try again later. */
  readonly retryable: boolean;
  readonly status: number | undefined;
  constructor(message: string, opts: { retryable: boolean; status?: number; cause: unknown }) {
    super(message, { cause: opts.cause });
    this.name = 'PromptWriterError';
    this.retryable = opts.retryable;
    this.status = opts.status;
  }
}

/** Deliberately loose: length and labels are checked in code, with a precise reason each. */
const replySchema = z.object({
  prompt: z.string().describe('The cinematic shot description'),
});

const SYSTEM = [
  'You rewrite prompts for a text-to-video model that renders advertising video variants.',
  'Turn the given prompt into one vivid, cinematic shot description: subject, setting,',
  'camera movement, framing, lighting, mood. Plain prose, no lists, no markdown.',
  'The prompt is one cell of an A/B test: every entry of required_terms must appear in your',
  'description word for word (any letter case). Do not add other brands, logos, on-screen text',
  'or people that the prompt and brief do not call for, and never show anything the brief lists',
  'under avoid. Stay within max_characters. Reply with JSON: {"prompt": "..."}.',
].join(' ');

export function createPromptWriter(opts: PromptWriterOptions): PromptWriter {
  const maxLength = opts.maxLength ?? DEFAULT_MAX_PROMPT_LENGTH;
  const timeout = opts.timeoutMs ?? 30_000;
  const maxRetries = opts.maxRetries ?? 2;
  const onApiError = opts.onApiError ?? 'throw';
  const responseFormat = zodResponseFormat(replySchema, 'shot_description');

  async function rewrite(input: RewriteInput): Promise<RewriteResult> {
    const original = input.prompt;
    const fallback = (reason: FallbackReason, detail: string): RewriteResult => ({
      rewritten: false,
      prompt: original,
      reason,
      detail,
    });

    const suffix = avoidSuffix(input.brief.avoid);
    const keepSuffix = suffix !== '' && original.endsWith(suffix);
    const body = keepSuffix ? original.slice(0, -suffix.length) : original;
    const budget = maxLength - (keepSuffix ? suffix.length : 0);
    const requiredTerms = [...new Set(input.levels.map((l) => l.label))];

    let reply: string;
    try {
      const completion = await opts.client.chat.completions.parse(
        {
          model: opts.model,
          messages: [
            { role: 'system', content: SYSTEM },
            {
              role: 'user',
              content: JSON.stringify({
                prompt: body,
                required_terms: requiredTerms,
                brief: input.brief,
                max_characters: budget,
              }),
            },
          ],
          response_format: responseFormat,
          ...(opts.temperature === undefined ? {} : { temperature: opts.temperature }),
        },
        { timeout, maxRetries, ...(input.signal ? { signal: input.signal } : {}) },
      );
      const message = completion.choices[0]?.message;
      if (message?.refusal) return fallback('refused', message.refusal);
      if (!message?.parsed) return fallback('invalid_output', 'the reply has no content');
      reply = message.parsed.prompt.trim();
    } catch (error) {
      if (error instanceof APIUserAbortError) throw error;
      if (error instanceof APIError) {
        const failure = toWriterError(error);
        if (onApiError === 'throw') throw failure;
        return fallback('api_error', failure.message);
      }
      if (error instanceof ContentFilterFinishReasonError) {
        return fallback('content_filter', error.message);
      }
      if (error instanceof LengthFinishReasonError) {
        return fallback('invalid_output', 'the reply was cut off at the token limit');
      }
      // SyntaxError (not JSON) or ZodError (wrong shape), both thrown by the SDK's parser.
      return fallback('invalid_output', error instanceof Error ? error.message : String(error));
    }

    if (reply === '') return fallback('empty', 'the rewrite is empty');
    if (reply.length > budget) {
      return fallback(
        'too_long',
        `the rewrite is ${reply.length} characters; at most ${budget} fit`,
      );
    }
    const missing = requiredTerms.filter((term) => !containsPhrase(reply, term));
    if (missing.length > 0) {
      return fallback(
        'missing_levels',
        `the rewrite dropped ${missing.map((t) => JSON.stringify(t)).join(', ')}`,
      );
    }
    return { rewritten: true, prompt: keepSuffix ? reply + suffix : reply };
  }

  return { rewrite };
}

/**
 * Case-insensitive, whole-phrase match; whitespace inside the phrase may differ (a model may
 * wrap "New York" across a line). "Whole" means not glued to a letter or digit on either side.
 */
export function containsPhrase(text: string, phrase: string): boolean {
  const words = phrase.normalize('NFC').trim().split(/\s+/u).filter(Boolean);
  if (words.length === 0) return true;
  const body = words.map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}])${body}(?![\\p{L}\\p{N}])`, 'iu').test(
    text.normalize('NFC'),
  );
}

function toWriterError(error: APIError): PromptWriterError {
  const status = error.status;
  const retryable =
    error instanceof APIConnectionError ||
    status === undefined ||
    status === 408 ||
    status === 409 ||
    status === 429 ||
    status >= 500;
  const what = error instanceof APIConnectionError ? error.message : `HTTP ${status}`;
  return new PromptWriterError(`prompt writer request failed: ${what}`, {
    retryable,
    cause: error,
    ...(status === undefined ? {} : { status }),
  });
}
