import OpenAI, { APIUserAbortError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withAvoid } from '../../src/prompts/index.ts';
import {
  containsPhrase,
  createPromptWriter,
  PromptWriterError,
  type PromptWriterOptions,
  type RewriteInput,
} from '../../src/prompts/writer.ts';
import { type FakeChatServer, json, startFakeChat } from './fake-chat.ts';
import { brief } from './fixtures.ts';

let server: FakeChatServer;
beforeAll(async () => {
  server = await startFakeChat();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

function writer(opts: Partial<PromptWriterOptions> = {}) {
  // maxRetries 0 on the client too, so only the writer's own setting can cause a retry.
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: server.baseURL, maxRetries: 0 });
  return createPromptWriter({ client, model: 'gpt-test', maxRetries: 0, ...opts });
}

const input: RewriteInput = {
  prompt: 'A Playful ad for Fizz Cola set in Beach, Paris.',
  brief: { ...brief, avoid: undefined },
  levels: [
    { dimension: 'tone', level: 'playful', label: 'Playful' },
    { dimension: 'setting', level: 'beach', label: 'Beach' },
    { dimension: 'city', level: 'paris', label: 'Paris' },
  ],
};
/** The JSON the writer sent as the user message of request `i`. */
function userPayload(i = 0) {
  const messages = server.requests[i]?.messages as { role: string; content: string }[] | undefined;
  const user = messages?.find((m) => m.role === 'user');
  if (!user) throw new Error(`request ${i} has no user message`);
  return JSON.parse(user.content);
}

const GOOD =
  'Golden-hour tracking shot along a Paris-style beach: a playful crowd passes a frosted Fizz Cola, camera drifting low over the sand of the beach.';

describe('prompt writer', () => {
  it('accepts a rewrite that keeps every label, and sends a strict structured-output request', async () => {
    server.reply(json({ prompt: GOOD }));
    expect(await writer().rewrite(input)).toEqual({ rewritten: true, prompt: GOOD });

    const [request] = server.requests;
    expect(request?.model).toBe('gpt-test');
    expect(request?.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'shot_description', strict: true },
    });
    const user = userPayload();
    expect(user).toMatchObject({
      prompt: input.prompt,
      required_terms: ['Playful', 'Beach', 'Paris'],
      max_characters: 2000,
      brief: { product: 'Fizz Cola' },
    });
    expect(request).not.toHaveProperty('temperature');
  });

  it('falls back to the original prompt when the rewrite drops a level', async () => {
    server.reply(json({ prompt: 'A playful crowd on a sunny beach sipping Fizz Cola.' }));
    expect(await writer().rewrite(input)).toEqual({
      rewritten: false,
      prompt: input.prompt,
      reason: 'missing_levels',
      detail: 'the rewrite dropped "Paris"',
    });
  });

  it('matches labels as whole phrases, not inside other words', async () => {
    server.reply(json({ prompt: 'Parisian playful vibes on the beach.' }));
    const result = await writer().rewrite(input);
    expect(result).toMatchObject({ rewritten: false, reason: 'missing_levels' });
  });

  it.each([
    ['not JSON', { kind: 'content' as const, content: 'Sure! Here is your prompt: ...' }],
    ['JSON of the wrong shape', json({ text: GOOD })],
    ['a non-string prompt', json({ prompt: 42 })],
    [
      'a reply cut off at the token limit',
      { kind: 'content' as const, content: '{"prompt": "Gold', finishReason: 'length' as const },
    ],
  ])('falls back on %s', async (_, reply) => {
    server.reply(reply);
    const result = await writer().rewrite(input);
    expect(result).toMatchObject({
      rewritten: false,
      prompt: input.prompt,
      reason: 'invalid_output',
    });
  });

  it('falls back on a refusal, a content filter stop and an empty rewrite', async () => {
    server.reply({ kind: 'refusal', refusal: 'I cannot help with that.' });
    expect(await writer().rewrite(input)).toMatchObject({
      reason: 'refused',
      detail: 'I cannot help with that.',
    });
    server.reply({
      kind: 'content',
      content: JSON.stringify({ prompt: GOOD }),
      finishReason: 'content_filter',
    });
    expect(await writer().rewrite(input)).toMatchObject({ reason: 'content_filter' });
    server.reply(json({ prompt: '   ' }));
    expect(await writer().rewrite(input)).toMatchObject({ reason: 'empty' });
  });

  it('falls back when the rewrite exceeds the cap, and tells the model the cap', async () => {
    server.reply(json({ prompt: GOOD }));
    const result = await writer({ maxLength: GOOD.length - 1 }).rewrite(input);
    expect(result).toMatchObject({
      rewritten: false,
      reason: 'too_long',
      detail: `the rewrite is ${GOOD.length} characters; at most ${GOOD.length - 1} fit`,
    });
    const user = userPayload();
    expect(user.max_characters).toBe(GOOD.length - 1);
  });

  it('keeps the avoid clause out of the rewrite and puts it back verbatim, within the cap', async () => {
    const avoid = ['alcohol', 'smoking'];
    const prompt = withAvoid(input.prompt, avoid);
    const suffix = '\nAvoid: alcohol, smoking.';
    server.reply(json({ prompt: GOOD }));
    const result = await writer({ maxLength: GOOD.length + suffix.length }).rewrite({
      ...input,
      prompt,
      brief: { ...brief, avoid },
    });
    expect(result).toEqual({ rewritten: true, prompt: GOOD + suffix });
    const user = userPayload();
    expect(user.prompt).toBe(input.prompt);
    expect(user.max_characters).toBe(GOOD.length);
    expect(user.brief.avoid).toEqual(avoid);
  });

  it('throws a retryable PromptWriterError on 500 after exactly maxRetries retries', async () => {
    server.reply({ kind: 'error', status: 500 });
    const error = await writer({ maxRetries: 2 })
      .rewrite(input)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PromptWriterError);
    expect(error).toMatchObject({ retryable: true, status: 500 });
    expect(server.requests).toHaveLength(3);
  });

  it('uses the rewrite when a retry succeeds', async () => {
    server.reply({ kind: 'error', status: 503 }, json({ prompt: GOOD }));
    expect(await writer({ maxRetries: 1 }).rewrite(input)).toEqual({
      rewritten: true,
      prompt: GOOD,
    });
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry a 400 and marks it not retryable', async () => {
    server.reply({ kind: 'error', status: 400 });
    const error = await writer({ maxRetries: 2 })
      .rewrite(input)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PromptWriterError', retryable: false, status: 400 });
    expect(server.requests).toHaveLength(1);
  });

  it("falls back on API errors with onApiError: 'fallback'", async () => {
    server.reply({ kind: 'error', status: 500 });
    const result = await writer({ onApiError: 'fallback' }).rewrite(input);
    expect(result).toEqual({
      rewritten: false,
      prompt: input.prompt,
      reason: 'api_error',
      detail: 'prompt writer request failed: HTTP 500',
    });
  });

  it('times out per the timeoutMs option', async () => {
    server.reply({ kind: 'hang' });
    const error = await writer({ timeoutMs: 100 })
      .rewrite(input)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PromptWriterError', retryable: true });
    expect((error as Error).message).toMatch(/timed out/i);
  });

  it('rethrows an abort by the caller', async () => {
    server.reply({ kind: 'hang' });
    const controller = new AbortController();
    const pending = writer({ onApiError: 'fallback' }).rewrite({
      ...input,
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
  });
});

describe('containsPhrase', () => {
  it.each([
    ['A PARIS street', 'Paris', true],
    ['in new\n  york tonight', 'New York', true],
    ['rediscover it', 'Red', false],
    ['Parisian', 'Paris', false],
    ['the 10% off deal', '10% off', true],
    ['Café society', 'café', true],
    ['Cafe\u0301 society', 'Café', true],
    ['price (USD) only', '(USD)', true],
    ['x', '', true],
  ])('%j contains %j: %s', (text, phrase, expected) => {
    expect(containsPhrase(text, phrase)).toBe(expected);
  });
});
