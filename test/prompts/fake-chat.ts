import Fastify from 'fastify';

/**
 * A fake Chat Completions endpoint for driving the real OpenAI SDK in tests. Each request is
 * answered by the next queued reply (the last one repeats), so a test states the sequence of
 * answers it needs, retries included, and reads back the request bodies it caused.
 */

export type FakeReply =
  /** 200 with `content` as choices[0].message.content. */
  | { kind: 'content'; content: string; finishReason?: 'stop' | 'length' | 'content_filter' }
  /** 200 with a refusal instead of content. */
  | { kind: 'refusal'; refusal: string }
  /** An OpenAI-shaped error body. retry-after-ms: 0 makes SDK retries immediate. */
  | { kind: 'error'; status: number }
  /** Never answers; for timeouts. The server's close() drops the connection. */
  | { kind: 'hang' };

export interface FakeChatServer {
  baseURL: string;
  /** Parsed JSON bodies of every request received, in order. */
  requests: Array<Record<string, unknown>>;
  reply(...replies: FakeReply[]): void;
  close(): Promise<void>;
}

/** Convenience: a 200 whose content is `JSON.stringify(value)`. */
export function json(value: unknown): FakeReply {
  return { kind: 'content', content: JSON.stringify(value) };
}

export async function startFakeChat(): Promise<FakeChatServer> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const requests: Array<Record<string, unknown>> = [];
  let queue: FakeReply[] = [];
  let served = 0;

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    requests.push(body);
    const next = queue[Math.min(served, queue.length - 1)];
    served++;
    if (!next) throw new Error('fake-chat: no reply queued');

    if (next.kind === 'hang') return new Promise<never>(() => {});
    if (next.kind === 'error') {
      return reply
        .code(next.status)
        .header('retry-after-ms', '0')
        .send({
          error: {
            message: `fake error ${next.status}`,
            type: next.status >= 500 ? 'server_error' : 'invalid_request_error',
            param: null,
            code: null,
          },
        });
    }
    const message =
      next.kind === 'refusal'
        ? { role: 'assistant', content: null, refusal: next.refusal }
        : { role: 'assistant', content: next.content, refusal: null };
    const finish = next.kind === 'content' ? (next.finishReason ?? 'stop') : 'stop';
    return {
      id: `chatcmpl-fake${served}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage: { prompt_tokens: 50, completion_tokens: 40, total_tokens: 90 },
      system_fingerprint: 'fp_fake',
    };
  });

  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    baseURL: `${address}/v1`,
    requests,
    reply(...replies) {
      queue = replies;
      served = 0;
    },
    close: () => app.close(),
  };
}
