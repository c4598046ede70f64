import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { decodeDataUri, inspectImage } from '../fake-provider/image.ts';
import { media, specFor, TINY } from '../fake-provider/media.ts';
import { FAKE_MODELS, validateCreate } from './models.ts';
import { RunwayStore } from './store.ts';
import type {
  CreateCall,
  FakeRunwayOptions,
  FakeRunwayServer,
  RunwayReceivedImage,
} from './types.ts';

export const RUNWAY_VERSION = '2024-11-06';

class RunwayApiError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/** A fake of Runway's API (docs.dev.runwayml.com) on loopback, for the real `@runwayml/sdk`. */
export async function startFakeRunway(opts: FakeRunwayOptions = {}): Promise<FakeRunwayServer> {
  const apiKey = opts.apiKey ?? 'test-runway-key';
  const store = new RunwayStore(
    opts.clock ?? Date.now,
    opts.defaults ?? {},
    opts.outputTtlMs ?? 24 * 3_600_000,
  );
  const initial = () => {
    store.rules = [...(opts.behave ?? [])];
    store.maxConcurrent = opts.maxConcurrent ?? 2;
    store.dailyLimit = opts.dailyLimit ?? null;
  };
  initial();
  const creditBalance = opts.creditBalance ?? 100_000;
  const matchRequest = opts.mediaMatchesRequest ?? true;

  // Data URIs up to 5 MB arrive inside the JSON body.
  const app = Fastify({
    logger: opts.logger ?? false,
    forceCloseConnections: true,
    bodyLimit: 8 << 20,
  });
  let origin = '';

  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/')) return;
    if (request.headers.authorization !== `Bearer ${apiKey}`)
      throw new RunwayApiError(401, 'Invalid API key. Send it as Authorization: Bearer <key>.');
    const version = request.headers['x-runway-version'];
    if (version !== RUNWAY_VERSION)
      throw new RunwayApiError(
        400,
        version
          ? `Unsupported X-Runway-Version '${String(version)}'`
          : 'The X-Runway-Version header is required',
      );
  });

  app.addHook('onResponse', async (request, reply) => {
    store.requests.push({
      at: store.now(),
      method: request.method,
      url: request.url,
      status: reply.statusCode,
    });
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof RunwayApiError)
      return reply.code(error.status).headers(error.headers).send({ error: error.message });
    const e = error as { statusCode?: number; message?: string };
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500;
    if (status >= 500) request.log.error(error);
    return reply.code(status).send({ error: status >= 500 ? 'Internal error' : e.message });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `Not found: ${request.method} ${request.url}` }),
  );

  /** The first frame's bytes: decoded from a data URI, or fetched as Runway fetches a URL. */
  const receiveImage = async (promptImage: unknown): Promise<RunwayReceivedImage | undefined> => {
    const first = Array.isArray(promptImage)
      ? (
          promptImage.find((i) => (i as { position?: unknown })?.position !== 'last') as {
            uri?: unknown;
          }
        )?.uri
      : promptImage;
    if (typeof first !== 'string') return undefined;
    const inline = decodeDataUri(first);
    if (inline) return { source: 'data_uri', ...inspectImage(inline.bytes) };
    if (!opts.fetchImage || first.startsWith('runway://')) return undefined;
    const bad = (why: string) => new RunwayApiError(400, `Invalid parameter 'promptImage': ${why}`);
    const head = await opts.fetchImage(first, 'HEAD');
    if (head.status >= 300 && head.status < 400) throw bad('the URL redirects');
    if (head.status !== 200) throw bad(`HEAD answered ${head.status}`);
    const type = head.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
    const length = Number(head.headers.get('content-length'));
    if (!['image/jpeg', 'image/png', 'image/webp'].includes(type))
      throw bad(`unsupported Content-Type ${type || '(none)'}`);
    if (!(length > 0)) throw bad('HEAD answered without a Content-Length');
    if (length > 16 * 1024 * 1024) throw bad('images by URL may be at most 16MB');
    const got = await opts.fetchImage(first, 'GET');
    if (got.status !== 200) throw bad(`GET answered ${got.status}`);
    const facts = inspectImage(new Uint8Array(await got.arrayBuffer()));
    if (facts.type !== type) throw bad(`the bytes are not ${type}`);
    return { source: 'url', url: first, ...facts };
  };

  const create = async (
    route: 'text_to_video' | 'image_to_video',
    request: FastifyRequest,
    reply: FastifyReply,
  ) => {
    const at = store.now();
    const body = (request.body ?? {}) as Record<string, unknown>;
    const prompt = typeof body.promptText === 'string' ? body.promptText : '';
    const call: CreateCall = { at, route, prompt, body, status: 0, taskId: undefined };
    store.calls.push(call);
    try {
      const valid = validateCreate(route, body);
      if (typeof valid === 'string') throw new RunwayApiError(400, valid);
      if (route === 'image_to_video') call.image = await receiveImage(valid.promptImage);
      const capS = store.dailyCapRetryAfterS(valid.model, at);
      if (capS !== null)
        throw new RunwayApiError(
          429,
          `You have exceeded the daily generation limit for model ${valid.model}. Try again later.`,
          { 'retry-after': String(capS) },
        );
      const b = store.resolve(prompt);
      if (b.outcome === 'reject_400') throw new RunwayApiError(400, b.message);
      const creates = b.outcome !== 'error_5xx' || b.createAnyway;
      const task = creates
        ? store.add({
            route,
            model: valid.model,
            promptText: valid.promptText,
            ratio: valid.ratio,
            duration: valid.duration,
            audio: valid.audio,
            promptImage: valid.promptImage,
            createdAtMs: at,
            estimatedCredits: valid.credits,
            behaviour: b,
            outcome:
              b.outcome === 'failed' || b.outcome === 'never_finish' ? b.outcome : 'succeeded',
          })
        : undefined;
      call.taskId = task?.id;
      if (b.createDelayMs > 0) await sleep(b.createDelayMs);
      if (b.outcome === 'error_5xx')
        throw new RunwayApiError(b.errorStatus, 'An unexpected error occurred.');
      if (b.outcome === 'drop_reply') {
        // The task exists and will be billed; the client never hears of it.
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      }
      call.status = 200;
      return reply.send({ id: task!.id, estimatedCost: { credits: task!.estimatedCredits } });
    } catch (err) {
      if (err instanceof RunwayApiError) call.status = err.status;
      throw err;
    }
  };

  app.post('/v1/text_to_video', (req, reply) => create('text_to_video', req, reply));
  app.post('/v1/image_to_video', (req, reply) => create('image_to_video', req, reply));

  const injectedReadFailure = () => {
    if (store.readFailures.n <= 0) return;
    store.readFailures.n--;
    throw new RunwayApiError(store.readFailures.status, 'An unexpected error occurred.');
  };

  const mustFind = (id: string) => {
    const t = store.tasks.get(id);
    if (!t || t.deleted) throw new RunwayApiError(404, 'Task not found');
    return t;
  };

  app.get<{ Params: { id: string } }>('/v1/tasks/:id', async (request) => {
    injectedReadFailure();
    return store.view(mustFind(request.params.id), store.now(), origin);
  });

  app.delete<{ Params: { id: string } }>('/v1/tasks/:id', async (request, reply) => {
    injectedReadFailure();
    const t = mustFind(request.params.id);
    const now = store.now();
    const status = store.status(t, now);
    // Runway cancels a task still in the works and deletes any other.
    if (status === 'PENDING' || status === 'THROTTLED' || status === 'RUNNING') {
      t.cancelledAtMs = now;
      store.advance(now);
    } else {
      t.deleted = true;
    }
    return reply.code(204).send();
  });

  app.get('/v1/organization', async () => {
    const now = store.now();
    const models = Object.keys(FAKE_MODELS);
    return {
      creditBalance: creditBalance - store.creditsSpent(now),
      tier: {
        maxMonthlyCreditSpend: 10_000_000,
        models: Object.fromEntries(
          models.map((m) => [
            m,
            {
              maxConcurrentGenerations: store.maxConcurrent,
              maxDailyGenerations: store.dailyLimit,
            },
          ]),
        ),
      },
      usage: {
        models: Object.fromEntries(
          models.map((m) => [m, { dailyGenerations: store.dailyCount(m, now) }]),
        ),
      },
    };
  });

  /** The output host: signed-looking URLs that expire; S3-style 403 once they have. */
  app.get<{ Params: { token: string; file: string } }>(
    '/_outputs/:token/:file',
    async (request, reply) => {
      const found = store.output(request.params.token, store.now());
      const path = request.url;
      if (found === undefined || found === 'expired') {
        const status = found === 'expired' ? 403 : 404;
        store.outputFetches.push({ path, status });
        return reply
          .code(status)
          .type('application/xml')
          .send(`<Error><Code>${status === 403 ? 'AccessDenied' : 'NoSuchKey'}</Code></Error>`);
      }
      const bytes = await media(
        'video',
        matchRequest ? specFor(found.ratio.replace(':', 'x'), String(found.duration)) : TINY,
      );
      store.outputFetches.push({ path, status: 200 });
      reply.type('video/mp4').header('content-length', String(bytes.length));
      const delay = found.behaviour.outputChunkDelayMs;
      if (delay <= 0) return reply.send(bytes);
      async function* slowly() {
        for (let i = 0; i < bytes.length; i += 512) {
          if (i > 0) await sleep(delay);
          yield bytes.subarray(i, i + 512);
        }
      }
      return reply.send(Readable.from(slowly()));
    },
  );

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('fake runway: no TCP address');
  origin = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  return {
    url: origin,
    apiKey,
    when: (match, behaviour) => {
      store.rules.push({ ...behaviour, match });
    },
    behave: (rules) => {
      store.rules = [...rules];
    },
    setLimits: (limits) => {
      if (limits.maxConcurrent !== undefined) store.maxConcurrent = limits.maxConcurrent;
      if (limits.dailyLimit !== undefined) store.dailyLimit = limits.dailyLimit;
      store.advance(store.now());
    },
    setDailyCapReached: (reached, retryAfterS = 3600) => {
      store.dailyCap = reached ? { retryAfterS } : null;
    },
    failReads: (n, status = 502) => {
      store.readFailures = { n, status };
    },
    staleOutputs: (n) => {
      store.staleOutputs = n;
    },
    get createCalls() {
      return store.calls;
    },
    createCount: (prompt) => store.calls.filter((c) => c.prompt === prompt).length,
    get tasks() {
      return store.tasks;
    },
    statusOf: (id) => {
      const t = store.tasks.get(id);
      return t && !t.deleted ? store.status(t, store.now()) : undefined;
    },
    peakConcurrent: (model) => store.peak(model),
    get requests() {
      return store.requests;
    },
    get outputFetches() {
      return store.outputFetches;
    },
    reset: () => {
      store.reset();
      initial();
    },
    close: () => app.close(),
  };
}
