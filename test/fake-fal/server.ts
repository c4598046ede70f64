export type {
  FakeFalOptions,
  FakeFalRequest,
  FalBehaviour,
  FalCreateCall,
  FalOutcome,
  FalReceivedImage,
} from './behaviour.ts';
export { MARKERS, mediaSpecOf } from './behaviour.ts';

import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { decodeDataUri, inspectImage } from '../fake-provider/image.ts';
import { media, TINY } from '../fake-provider/media.ts';
import {
  type FakeFalOptions,
  type FakeFalRequest,
  type FalBehaviour,
  type FalCreateCall,
  type FalOutcome,
  type FalReceivedImage,
  imageFieldOf,
  MARKERS,
  mediaSpecOf,
  resultOf,
} from './behaviour.ts';
import {
  type FalSigningKey,
  generateFalKey,
  postFalWebhook,
  type SentFalWebhook,
} from './webhooks.ts';

export async function startFakeFal(opts: FakeFalOptions = {}) {
  const userId = opts.userId ?? 'fake-user';
  const resultTtlMs = opts.resultTtlMs ?? 3_600_000;
  let mediaTtlMs = opts.mediaTtlMs ?? 3_600_000;
  let mediaFailures: { left: number; status: number } = { left: 0, status: 503 };
  let maxConcurrent = opts.maxConcurrent ?? 2;
  let duplicate = opts.duplicateWebhooks ?? false;
  let keys: FalSigningKey[] = [generateFalKey()];
  const rules: { match: string | RegExp; behaviour: FalBehaviour }[] = [];
  const requests = new Map<string, FakeFalRequest>();
  const calls: FalCreateCall[] = [];
  const sent: SentFalWebhook[] = [];
  const log: { method: string; url: string; status: number }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const deliveries = new Set<Promise<unknown>>();
  let peak = 0;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    t.unref();
    timers.add(t);
  };
  const running = () => [...requests.values()].filter((r) => r.state === 'IN_PROGRESS').length;

  function behaviourOf(
    prompt: string,
  ): Required<Omit<FalBehaviour, 'outcome'>> & { outcome: FalOutcome } {
    const rule = rules.find((r) =>
      typeof r.match === 'string' ? prompt.includes(r.match) : r.match.test(prompt),
    )?.behaviour;
    const marker = Object.entries(MARKERS).find(([m]) => prompt.includes(m))?.[1];
    return {
      outcome: rule?.outcome ?? marker ?? 'completed',
      queuedMs: rule?.queuedMs ?? opts.defaults?.queuedMs ?? (opts.instant ? 0 : 20),
      renderMs: rule?.renderMs ?? opts.defaults?.renderMs ?? (opts.instant ? 0 : 60),
      retryAfterSec: rule?.retryAfterSec ?? 7,
    };
  }

  /** Starts queued requests in submission order while slots are free. */
  function pump() {
    for (const r of requests.values()) {
      if (running() >= maxConcurrent) return;
      if (r.state !== 'IN_QUEUE' || !r.ready) continue;
      r.state = 'IN_PROGRESS';
      peak = Math.max(peak, running());
      if (r.outcome === 'never_finish') continue;
      // Instant: done before the submit's answer leaves (a microtask runs before any I/O).
      if (opts.instant && r.renderMs === 0) queueMicrotask(() => complete(r));
      else later(r.renderMs, () => complete(r));
    }
  }

  function complete(r: FakeFalRequest) {
    if (r.state === 'COMPLETED') return;
    r.state = 'COMPLETED';
    r.completedAt = Date.now();
    pump();
    if (r.webhookUrl) void deliver(r);
  }

  async function deliver(r: FakeFalRequest) {
    const [status, , payload] = resultOf(r, base);
    const body = JSON.stringify({
      request_id: r.id,
      gateway_request_id: r.id,
      status: status === 200 ? 'OK' : 'ERROR',
      payload,
      ...(status === 200 ? {} : { error: `Invalid status code: ${status}` }),
    });
    const retries = opts.webhookRetries ?? 3;
    const p = (async () => {
      for (let attempt = 0; attempt <= retries; attempt++) {
        const s = await postFalWebhook(keys[0]!, userId, r.webhookUrl!, r.id, body, attempt);
        sent.push(s);
        if (s.status !== null && s.status < 300) {
          if (duplicate)
            sent.push(
              await postFalWebhook(keys[0]!, userId, r.webhookUrl!, r.id, body, attempt + 1),
            );
          return;
        }
        await new Promise((res) => later(opts.webhookRetryDelayMs ?? 50, () => res(null)));
      }
    })();
    deliveries.add(p);
    await p.finally(() => deliveries.delete(p));
  }

  /** A data URI's bytes, or the URL's as fal's runner would download them. */
  async function receiveImage(value: string): Promise<FalReceivedImage | undefined> {
    const inline = decodeDataUri(value);
    if (inline) return { source: 'data_uri', ...inspectImage(inline.bytes) };
    if (!/^https?:\/\//.test(value)) return undefined;
    try {
      const res = await (opts.fetchImage ?? fetch)(value);
      if (!res.ok) return undefined;
      return {
        source: 'url',
        url: value,
        ...inspectImage(new Uint8Array(await res.arrayBuffer())),
      };
    } catch {
      return undefined;
    }
  }

  // Data URIs of a few MB arrive inside the JSON body.
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 32 << 20 });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? {} : JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('invalid JSON'), { statusCode: 422 }), undefined);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-fal-request-id', randomUUID());
    if (request.url.startsWith('/media/') || request.url.startsWith('/.well-known/')) return;
    const auth = request.headers.authorization ?? '';
    if (auth.startsWith('Key ') && (opts.key === undefined || auth === `Key ${opts.key}`)) return;
    return reply.code(401).send({ detail: 'No user found for Key ID and Secret' });
  });
  app.addHook('onResponse', async (request, reply) => {
    log.push({ method: request.method, url: request.url, status: reply.statusCode });
  });

  app.get('/.well-known/jwks.json', async () => ({ keys: keys.map((k) => k.jwk) }));

  app.get<{ Params: { id: string } }>('/media/:id', async (request, reply) => {
    const r = requests.get(request.params.id.replace(/\.mp4$/, ''));
    if (r && mediaFailures.left > 0) {
      mediaFailures.left--;
      return reply.code(mediaFailures.status).send({ detail: 'CDN unavailable' });
    }
    if (
      !r ||
      r.completedAt === null ||
      resultOf(r, base)[0] !== 200 ||
      Date.now() - r.completedAt > mediaTtlMs
    ) {
      return reply.code(404).send({ detail: 'Not found' });
    }
    const bytes = await media('video', r.media);
    return reply.type('video/mp4').header('content-length', String(bytes.length)).send(bytes);
  });

  const urls = (r: FakeFalRequest) => {
    const b = `${base}/${r.app}/requests/${r.id}`;
    return {
      request_id: r.id,
      status_url: `${b}/status`,
      response_url: b,
      cancel_url: `${b}/cancel`,
    };
  };

  app.post<{ Querystring: { fal_webhook?: string } }>(
    '/*',
    async (request, reply: FastifyReply) => {
      const endpoint = (request.params as { '*': string })['*'];
      const input = (request.body ?? {}) as Record<string, unknown>;
      const prompt = typeof input.prompt === 'string' ? input.prompt : '';
      const timeoutHeader = request.headers['x-fal-request-timeout'] as string | undefined;
      const call: FalCreateCall = {
        at: Date.now(),
        endpoint,
        prompt,
        input,
        webhookUrl: request.query.fal_webhook,
        requestTimeout: timeoutHeader,
        status: 0,
        requestId: undefined,
      };
      calls.push(call);
      const [owner, appName] = endpoint.split('/');
      if (!owner || !appName) return reply.code(404).send({ detail: 'Application not found' });
      if (!prompt) {
        call.status = 422;
        return reply
          .code(422)
          .send({ detail: [{ loc: ['body', 'prompt'], msg: 'field required', type: 'missing' }] });
      }
      const imageField = imageFieldOf(endpoint);
      let imageUnusable = false;
      if (imageField) {
        const value = input[imageField];
        if (typeof value !== 'string' || value === '') {
          call.status = 422;
          return reply.code(422).send({
            detail: [{ loc: ['body', imageField], msg: 'field required', type: 'missing' }],
          });
        }
        call.image = await receiveImage(value);
        // fal's runner loads the image when it starts: a bad one fails the request, not the submit.
        imageUnusable = call.image?.type == null;
      }
      const b = behaviourOf(prompt);
      if (imageUnusable && b.outcome === 'completed') b.outcome = 'model_error';
      if (b.outcome === 'submit_429') {
        call.status = 429;
        return reply
          .code(429)
          .header('retry-after', String(b.retryAfterSec))
          .send({ detail: 'Too many requests' });
      }
      if (b.outcome === 'submit_500') {
        call.status = 500;
        return reply.code(500).send({ detail: 'Internal server error' });
      }
      const r: FakeFalRequest = {
        id: randomUUID(),
        endpoint,
        app: `${owner}/${appName}`,
        input,
        outcome: b.outcome,
        state: 'IN_QUEUE',
        ready: false,
        cancelled: false,
        userTimeout: false,
        completedAt: null,
        renderMs: b.renderMs,
        webhookUrl: request.query.fal_webhook,
        media: opts.instant ? TINY : mediaSpecOf(input),
      };
      requests.set(r.id, r);
      call.requestId = r.id;
      const start = () => {
        r.ready = true;
        pump();
      };
      if (opts.instant && b.queuedMs === 0) start();
      else later(b.queuedMs, start);
      const timeoutSec = Number(timeoutHeader);
      if (timeoutSec > 0) {
        // Still waiting for a runner at the deadline: fails with 504 instead of running late.
        later(timeoutSec * 1000, () => {
          if (r.state !== 'IN_QUEUE') return;
          r.userTimeout = true;
          complete(r);
        });
      }
      if (b.outcome === 'drop_reply') {
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      }
      call.status = 200;
      const queue_position =
        [...requests.values()].filter((x) => x.state === 'IN_QUEUE').length - 1;
      return reply
        .header('x-fal-request-id', r.id)
        .send({ ...urls(r), status: 'IN_QUEUE', queue_position });
    },
  );

  type ReqParams = { Params: { owner: string; app: string; id: string } };
  const find = (request: FastifyRequest<ReqParams>) => {
    const { owner, app: name, id } = request.params;
    const r = requests.get(id);
    return r && r.app === `${owner}/${name}` ? r : undefined;
  };

  app.get<ReqParams>('/:owner/:app/requests/:id/status', async (request, reply) => {
    const r = find(request);
    if (!r) return reply.code(404).send({ detail: 'Request not found' });
    const body = { ...urls(r), status: r.state, logs: null };
    if (r.state === 'COMPLETED') return reply.code(200).send({ ...body, metrics: {} });
    const queue_position = [...requests.values()].filter((x) => x.state === 'IN_QUEUE').indexOf(r);
    return reply.code(202).send(r.state === 'IN_QUEUE' ? { ...body, queue_position } : body);
  });

  app.get<ReqParams>('/:owner/:app/requests/:id', async (request, reply) => {
    const r = find(request);
    if (!r) return reply.code(404).send({ detail: 'Request not found' });
    if (r.state !== 'COMPLETED')
      return reply.code(400).send({ detail: 'Request is still in progress' });
    if (Date.now() - r.completedAt! > resultTtlMs)
      return reply.code(404).send({ detail: 'Request not found' });
    const [status, headers, body] = resultOf(r, base);
    return reply.code(status).headers(headers).send(body);
  });

  app.put<ReqParams>('/:owner/:app/requests/:id/cancel', async (request, reply) => {
    const r = find(request);
    if (!r) return reply.code(404).send({ status: 'NOT_FOUND' });
    if (r.state === 'COMPLETED') return reply.code(400).send({ status: 'ALREADY_COMPLETED' });
    r.cancelled = true;
    complete(r);
    return reply.code(202).send({ status: 'CANCELLATION_REQUESTED' });
  });

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('fake fal: no TCP address');
  const base = `http://127.0.0.1:${addr.port}`;

  const close = async () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    await Promise.allSettled([...deliveries]);
    await app.close();
  };

  return {
    /** The `FAL_QUEUE_URL` to point the adapter at. */
    queueUrl: base,
    jwksUrl: `${base}/.well-known/jwks.json`,
    userId,
    /** The key signing deliveries now (the JWKS serves it and any older ones kept). */
    get signingKey() {
      return keys[0]!;
    },
    /** A new signing key; `keepOld` leaves the previous ones in the JWKS. */
    rotateKey(keepOld = false) {
      keys = [generateFalKey(), ...(keepOld ? keys : [])];
      return keys[0]!;
    },
    when(match: string | RegExp, behaviour: FalBehaviour) {
      rules.push({ match, behaviour });
    },
    setMaxConcurrent(n: number) {
      maxConcurrent = n;
      pump();
    },
    setMediaTtlMs(ms: number) {
      mediaTtlMs = ms;
    },
    /** The next `n` fetches of a known media URL answer `status` (a CDN hiccup; default 503). */
    failMedia(n: number, status = 503) {
      mediaFailures = { left: n, status };
    },
    setDuplicateWebhooks(on: boolean) {
      duplicate = on;
    },
    /** Lets a `never_finish` request end as asked. */
    finish(requestId: string) {
      const r = requests.get(requestId);
      if (r) {
        r.outcome = 'completed';
        complete(r);
      }
    },
    /** Submissions received (refused ones included), in order. */
    get createCalls(): readonly FalCreateCall[] {
      return calls;
    },
    /** Submissions whose prompt equals `match` (string) or tests true (RegExp); all when omitted. */
    createCount(match?: string | RegExp) {
      return calls.filter((c) =>
        match === undefined
          ? true
          : typeof match === 'string'
            ? c.prompt === match
            : match.test(c.prompt),
      ).length;
    },
    requests: requests as ReadonlyMap<string, FakeFalRequest>,
    get sentWebhooks(): readonly SentFalWebhook[] {
      return sent;
    },
    /** Sends a request's delivery again (same body, fresh signature), as fal's retries do. */
    async redeliver(requestId: string) {
      const first = sent.find((s) => s.requestId === requestId);
      if (!first) throw new Error(`no delivery sent for ${requestId}`);
      const s = await postFalWebhook(
        keys[0]!,
        userId,
        first.url,
        requestId,
        first.body,
        sent.length,
      );
      sent.push(s);
      return s;
    },
    /** Settles once every webhook delivery started so far has finished. */
    async webhooksSettled() {
      await Promise.allSettled([...deliveries]);
    },
    get peakConcurrent() {
      return peak;
    },
    runningCount: running,
    get log(): readonly { method: string; url: string; status: number }[] {
      return log;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export type FakeFal = Awaited<ReturnType<typeof startFakeFal>>;
